"""`dexagent skills` prints the registry's manifest."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dexagent.cli.app import app
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
