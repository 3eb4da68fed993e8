"""How the CLI reports bad input: a clear red message and exit code 2, never a traceback."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

EXIT_OK = 0
EXIT_FAILED = 1  # the job ran but did not succeed (e.g. the prompt was not completed)
EXIT_BAD_INPUT = 2  # bad flag value, unreadable file, unreachable server at start


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print `message` as an error and exit with `code`."""
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)
