"""Every command's --help: flags read as flags, and lists come from the registries they describe."""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import typer
from typer.testing import CliRunner

from dexagent.cli.app import COMMANDS, app
from dexagent.controller.config import config_names

runner = CliRunner()


def _command_paths(command: Any, path: list[str]) -> list[list[str]]:
    paths = [path]
    if hasattr(command, "list_commands"):  # a group (the root loads its commands' modules on lookup)
        for name in command.list_commands(None):
            paths += _command_paths(command.get_command(None, name), [*path, name])
    return paths


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_no_flag_shows_a_value_type() -> None:
    paths = _command_paths(typer.main.get_command(app), [])
    assert ["train"] in paths and ["data", "export"] in paths
    for path in paths:
        output = _help(*path)
        assert "<bool>" not in output, f"dexagent {' '.join(path)} --help:\n{output}"
    assert "<int>" in _help("train")  # options that take a value still show its type


def test_train_help_lists_every_preset_get_config_accepts() -> None:
    output = " ".join(_help("train").split())
    assert len(config_names()) >= 5
    for name in config_names():
        assert f" {name} |" in output, name


def test_help_lines_written_out_name_every_registered_choice() -> None:
    """Start-up keeps the suites out of --help; this line must still list what they hold."""
    from dexagent.agent.evaluation import SUITES
    from dexagent.cli.eval import SUITES_HELP

    named = set(re.findall(r"[a-z][a-z-]*[a-z]", SUITES_HELP))
    assert SUITES and set(SUITES) <= named, set(SUITES) - named


def test_help_lists_the_registries_contents() -> None:
    """Robots, planners, trackers and encoders are listed from their registries (a plug-in registered
    before the CLI loads is listed too: tests/cli/test_adding_a_plugin.py)."""
    from dexagent.agent.planner import PLANNERS
    from dexagent.controller.config import ENCODERS
    from dexagent.controller.perception import TRACKERS
    from dexagent.hardware.registry import ROBOTS

    def flat(*command: str) -> str:  # one line, without the table's borders
        return " ".join(_help(*command).replace("│", " ").split())

    run = flat("run")
    assert f"The robot type: {', '.join(ROBOTS.names())};" in run
    assert f"The planner: {', '.join(PLANNERS.names())}." in run
    assert f"the mask tracker: {', '.join(TRACKERS.names())}." in run
    assert f"The robot, one of {', '.join(ROBOTS.names())}:" in flat("collect")
    assert f"this mask tracker: {', '.join(TRACKERS.names())}" in flat("doctor")
    info = flat("controller", "info")
    assert f"Encoder kinds a config may name: {', '.join(ENCODERS.names())}." in info


def test_the_command_table_names_what_each_module_registers() -> None:
    """`dexagent tree list` imports only cli.tree, `dexagent --help` none: the root reads COMMANDS."""
    for command in COMMANDS.values():
        for module in command.modules:
            importlib.import_module(module)
    registered = [info.name for info in app.registered_commands] + [g.name for g in app.registered_groups]
    assert sorted(registered) == sorted(COMMANDS)
    root: Any = typer.main.get_command(app)
    assert root.list_commands(None) == list(COMMANDS)
    for name, command in COMMANDS.items():
        loaded = root.get_command(None, name)
        first_paragraph = inspect.cleandoc(loaded.short_help or loaded.help or "").split("\n\n")[0].strip()
        assert command.summary == first_paragraph, f"app.COMMANDS[{name!r}].summary: {first_paragraph!r}"


def test_a_mistyped_command_is_answered_with_the_close_ones() -> None:
    result = runner.invoke(app, ["tre"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "No such command 'tre'. Did you mean 'tree'?" in result.output
