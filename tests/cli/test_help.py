"""Every command's --help: flags read as flags, and lists come from the registries they describe."""

from __future__ import annotations

import re

import typer
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.controller.config import config_names

runner = CliRunner()


def _command_paths(command: object, path: list[str]) -> list[list[str]]:
    paths = [path]
    for name, sub in getattr(command, "commands", {}).items():
        paths += _command_paths(sub, [*path, name])
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
    """Start-up keeps the registries out of --help; these lines must still list what they hold."""
    from dexagent.agent.evaluation import SUITES
    from dexagent.cli.eval import SUITES_HELP
    from dexagent.cli.run import ROBOTS_HELP
    from dexagent.hardware.registry import robot_types

    assert robot_types() and all(f"{robot} (" in ROBOTS_HELP for robot in robot_types())
    named = set(re.findall(r"[a-z][a-z-]*[a-z]", SUITES_HELP))
    assert SUITES and set(SUITES) <= named, set(SUITES) - named
