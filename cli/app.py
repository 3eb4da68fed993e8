"""The `dexagent` Typer app: one module per command group, registered here."""

from __future__ import annotations

import difflib
import importlib
import signal
import sys
from typing import Any, NamedTuple

import typer
import typer.core

from dexagent.cli import typer_hooks  # noqa: F401  (flags show no `<bool>`; absent values skip pydantic)


class Command(NamedTuple):
    """A root command: the modules that register it (on `app`) and the line `dexagent --help` shows."""

    modules: tuple[str, ...]
    summary: str  # the first paragraph of the command's help (tests/cli/test_help.py compares them)


# Every command by name, in the order `dexagent --help` lists them. A command's modules are imported
# when it runs or its own help is asked for, so `dexagent tree list` does not pay for the imports of
# `run`, `train` and the rest, and `dexagent --help` lists the summaries without importing any.
COMMANDS: dict[str, Command] = {
    "run": Command(
        ("dexagent.cli.run",),
        "Run the agent on PROMPT: plan, compile a skill tree, tick it at 20 Hz; exit 0 when the prompt "
        "is done.",
    ),
    "collect": Command(
        ("dexagent.cli.collect",),
        "Record demonstrations: scripted experts in sim, or kinesthetic ones on the real robot.",
    ),
    "data": Command(
        ("dexagent.cli.data",),
        "Demonstration stores: what they hold; export to / import from LeRobot v3 and DexGraspVLA.",
    ),
    "eval": Command(
        ("dexagent.cli.eval",), "Run closed-loop grasping episodes in sim and print success rates per split."
    ),
    "sim": Command(("dexagent.cli.sim",), "Look at the simulation: render a scene, record an episode."),
    "train": Command(
        ("dexagent.cli.train",),
        "Train the DiT controller; Ctrl-C saves the current step so --resume can continue it.",
    ),
    "controller": Command(
        ("dexagent.cli.controller", "dexagent.cli.controller_hub"),
        "Inspect DiT controller configs and checkpoints.",
    ),
    "tree": Command(
        ("dexagent.cli.tree",),
        "Skill trees: validate, show and render tree files; the JSON schema; the bundled trees.",
    ),
    "skills": Command(
        ("dexagent.cli.skills",),
        "List the skills trees can use: name, kind, what it does, its parameters and defaults.",
    ),
    "plugins": Command(
        ("dexagent.cli.plugins",),
        "List the registered robots, mask trackers, planners and encoders, with their options.",
    ),
    "planner": Command(
        ("dexagent.cli.planner",),
        "Check a VLM planner server (key from OPENAI_API_KEY); ground a target or plan a prompt.",
    ),
    "doctor": Command(
        ("dexagent.cli.doctor",),
        "Check Python, torch/GPU, MuJoCo rendering, optional packages, weights, devices and the VLM.",
    ),
    "calibrate": Command(
        ("dexagent.cli.calibrate",), "Compare your robot with the sim embodiment the controllers learned on."
    ),
}


class LazyCommands(typer.core.TyperGroup):
    """The root group: a command's modules load when the command is looked up, not at start-up; the
    root's own help lists the summaries of commands not loaded yet."""

    listing_only = False  # true while the root's help is written

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMANDS:
            modules = COMMANDS[cmd_name].modules
            # A module imported directly (a test, a plug-in) registers its part of a command group
            # early: the group is complete only once all of its modules are loaded.
            if cmd_name not in self.commands or not all(module in sys.modules for module in modules):
                if self.listing_only:
                    return typer.core.TyperCommand(cmd_name, help=COMMANDS[cmd_name].summary)
                for module in modules:
                    importlib.import_module(module)
                self.commands[cmd_name] = _click_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except Exception as error:  # "No such command": Typer suggests only from the loaded ones
            message = getattr(error, "message", None)
            if isinstance(message, str) and args and "Did you mean" not in message:
                matches = difflib.get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    error.message = f"{message.rstrip('.')}. Did you mean {', '.join(map(repr, matches))}?"  # type: ignore[attr-defined]
            raise

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing_only = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing_only = False


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
