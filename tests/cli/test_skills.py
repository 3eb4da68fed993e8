"""`dexagent skills` prints the registry's manifest."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.cli.errors import console
from dexagent.skills import REGISTRY

runner = CliRunner()


def test_skills_lists_every_skill_with_its_parameters() -> None:
    result = runner.invoke(app, ["skills"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in REGISTRY.names():
        assert name in result.output
    assert "budget_s: number = 15.0" in result.output


def test_skills_json_is_the_manifest() -> None:
    result = runner.invoke(app, ["skills", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == REGISTRY.manifest()


def test_skills_schema_is_the_registry_schema() -> None:
    result = runner.invoke(app, ["skills", "--schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == REGISTRY.json_schema()


@pytest.mark.parametrize("columns", [80, 120])
def test_skills_fits_the_terminal_without_breaking_a_parameter_or_a_name(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "width", columns)  # the suite fixes COLUMNS before the console exists
    result = runner.invoke(app, ["skills"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= columns
    for entry in REGISTRY.manifest():
        assert any(f"│ {entry['name']} " in line for line in lines), entry["name"]
        for name in entry["params"].get("properties", {}):
            assert any(re.search(rf"│ {name}: \w+", line) for line in lines), (entry["name"], name)
