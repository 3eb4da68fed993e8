"""cli/typer_hooks.py changes when Typer checks a parameter, never what the command receives or refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import typer.core
from typer.testing import CliRunner

from dexagent.cli import typer_hooks

app = typer.Typer()


@app.command()
def count(
    times: int = typer.Option(1, "--times"),
    name: list[str] = typer.Option(None, "--name"),
    out: Path | None = typer.Option(None, "--out"),
    loud: bool = typer.Option(False, "--loud"),
) -> None:
    typer.echo(repr((times, name, out, loud)))


CASES = [
    [],
    ["--times", "3", "--name", "a", "--name", "b", "--out", "x.svg", "--loud"],
    ["--times", "three"],
    ["--times", "-"],
    ["--out"],
]


def _outcomes() -> list[tuple[int, str]]:
    runner = CliRunner()
    return [(result.exit_code, result.output) for result in (runner.invoke(app, args) for args in CASES)]


@pytest.mark.skipif(typer_hooks._build_runtime_param is None, reason="this Typer checks values its own way")
def test_values_given_or_absent_reach_the_command_as_typer_alone_gives_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hooked = _outcomes()
    monkeypatch.setattr(typer.core, "build_runtime_param", typer_hooks._build_runtime_param)
    assert hooked == _outcomes()
    assert hooked[0] == (0, "(1, None, None, False)\n")
    assert hooked[2][0] == 2 and "Invalid value for '--times'" in hooked[2][1]
