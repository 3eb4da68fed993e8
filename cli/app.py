"""The `dexagent` Typer app: one module per command group, registered here."""

from __future__ import annotations

import signal
from typing import Any

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

app = typer.Typer(
    name="dexagent",
    help="Make a dexterous robot do what it is told: VLM planner, DiT controller, skill trees.",
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


# Command registration: each command group lives in its own module of this folder.
# (keep one line per module; the order here is the order in `dexagent --help`)
from dexagent.cli import run  # noqa: E402, F401, I001  (the main command first)
from dexagent.cli import collect, data, eval, sim  # noqa: E402, F401
from dexagent.cli import train, controller, controller_hub  # noqa: E402, F401
from dexagent.cli import tree, skills, planner  # noqa: E402, F401
from dexagent.cli import doctor, calibrate  # noqa: E402, F401


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
    # this file as `__main__`, while the command modules registered on the imported
    # `dexagent.cli.app`: run that module's app, which has every command.
    from dexagent.cli.app import main as _registered_main

    _registered_main()
