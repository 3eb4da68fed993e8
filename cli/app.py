"""The `dexagent` Typer app: one module per command group, registered here."""

from __future__ import annotations

import importlib
import os
import signal
from typing import Any

# Offscreen MuJoCo rendering on machines without a display; a user's own choice wins.
os.environ.setdefault("MUJOCO_GL", "egl")

import typer
import typer.core


def _flag_type(self: typer.core.TyperOption, ctx: Any) -> str | None:
    """A flag's help row shows no value type: typer 0.29 prints `<bool>` beside `--help` and every
    on/off switch, which reads as if the flag took a value."""
    if self.is_flag and self.metavar is None:
        return None
    return _option_type(self, ctx)  # type: ignore[misc]


# Only where this Typer has the hook (0.2x); older and newer releases keep their own rendering.
_option_type = getattr(typer.core.TyperOption, "display_type_rich", None)
if _option_type is not None:
    typer.core.TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]

# Every command by name, in the order `dexagent --help` lists them, and the modules that register it
# (on `app`). A module is imported when its command runs or a help text lists it, so `dexagent tree
# list` does not pay for the imports of `run`, `train` and the rest (tests/cli/test_help.py keeps
# this table in step with what the modules register).
COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("dexagent.cli.run",),  # the main command first
    "collect": ("dexagent.cli.collect",),
    "data": ("dexagent.cli.data",),
    "eval": ("dexagent.cli.eval",),
    "sim": ("dexagent.cli.sim",),
    "train": ("dexagent.cli.train",),
    "controller": ("dexagent.cli.controller", "dexagent.cli.controller_hub"),
    "tree": ("dexagent.cli.tree",),
    "skills": ("dexagent.cli.skills",),
    "planner": ("dexagent.cli.planner",),
    "doctor": ("dexagent.cli.doctor",),
    "calibrate": ("dexagent.cli.calibrate",),
}


class LazyCommands(typer.core.TyperGroup):
    """The root group: a command's modules load when the command is looked up, not at start-up."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            for module in COMMANDS[cmd_name]:
                importlib.import_module(module)
            self.commands[cmd_name] = _click_command(cmd_name)
        return super().get_command(ctx, cmd_name)


def _click_command(name: str) -> Any:
    """The click command (or group) of what the modules registered on `app` as `name`."""
    part = typer.Typer(rich_markup_mode=app.rich_markup_mode, add_completion=False)
    part.registered_commands = [
        info
        for info in app.registered_commands
        if (info.name or (info.callback.__name__ if info.callback else "").replace("_", "-")) == name
    ]
    part.registered_groups = [info for info in app.registered_groups if info.name == name]
    return typer.main.get_group(part).commands[name]


app = typer.Typer(
    name="dexagent",
    help="Make a dexterous robot do what it is told: VLM planner, DiT controller, skill trees.",
    cls=LazyCommands,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version  # 50 ms: only for --version

        try:
            typer.echo(version("dexagent"))
        except PackageNotFoundError:
            typer.echo("unknown (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """dexagent: `dexagent run "clear the table"` runs the whole agent in simulation."""


def main() -> None:
    # SIGTERM (a scheduler's or `docker stop`'s stop, `kill`) stops every command as Ctrl-C does:
    # the same clean exit 130, saved work and no traceback; `run` installs its own safe stop.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # A process started in the background by a script inherits SIGINT as ignored, and Python then
    # installs no handler: without this, `kill -INT` (or a test's Ctrl-C) would never stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    app()


if __name__ == "__main__":
    # `python -m dexagent.cli.app` (e.g. `accelerate launch -m dexagent.cli.app train ...`) runs
    # this file as `__main__`, while the command modules register on the imported
    # `dexagent.cli.app`: run that module's app, which has every command.
    from dexagent.cli.app import main as _registered_main

    _registered_main()
