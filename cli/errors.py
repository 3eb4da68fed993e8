"""How the CLI reports bad input: a clear red message and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from dexagent.agent.shown_text import shown

console = Console()
err_console = Console(stderr=True)

EXIT_OK = 0
EXIT_FAILED = 1  # the job ran but did not succeed (e.g. the prompt was not completed)
EXIT_BAD_INPUT = 2  # bad flag value, unreadable file, unreachable server at start
# A device reported a fault the operator must look at (e.g. the hand's error bits): the arm stopped.
EXIT_DEVICE_FAULT = 3
# Stopped by Ctrl-C or SIGTERM, in every command (128 + SIGINT: the shell's convention).
EXIT_INTERRUPTED = 130


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print `message` as an error and exit with `code`; the message is shown as is, never as markup
    (it often quotes user input, file contents or a server's reply)."""
    err_console.print(f"[bold red]error:[/] {shown(message)}")
    raise typer.Exit(code)


def fail_device_fault(fault: Exception, robot_config: Path | None) -> NoReturn:
    """A device fault stopped the robot (the arm holds): name it and how to clear it; exit 3."""
    hint = str(fault).replace("FILE", str(robot_config)) if robot_config is not None else str(fault)
    err_console.print(f"[bold red]device fault, the arm is stopped:[/] {shown(hint)}")
    raise typer.Exit(EXIT_DEVICE_FAULT)
