"""Every bundled tree loads against the real skill registry, shows, renders, and matches the JSON schema."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from dexagent.trees.display import unicode_tree
from dexagent.trees.library import LIBRARY, bundled_names, bundled_trees
from dexagent.trees.loader import load_tree
from dexagent.trees.render import render, to_dot
from dexagent.trees.schema import tree_schema

NAMES = bundled_names()
BROKEN = sorted((Path(__file__).parent / "broken").glob("*.yaml"))


def test_the_four_bundled_trees_ship_with_descriptions() -> None:
    assert {"grasp_object", "clear_table", "grasp_all", "nonprehensile_grasp"} <= set(NAMES)
    for bundled in bundled_trees():
        assert bundled.description and "\n" not in bundled.description


@pytest.mark.parametrize("name", NAMES)
def test_bundled_tree_loads_and_shows(name: str) -> None:
    document = load_tree(name)
    text = unicode_tree(document)
    assert document.description in text
    assert "● reset" in text or "[reset" in text  # every bundled tree ends by putting things away


@pytest.mark.parametrize("name", NAMES)
def test_bundled_tree_renders_to_svg(name: str, tmp_path: Path) -> None:
    out = render(load_tree(name), tmp_path / f"{name}.svg")
    svg = out.read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "</svg>" in svg
    assert "reset" in svg


@pytest.mark.parametrize("name", NAMES)
def test_bundled_tree_matches_the_json_schema(name: str) -> None:
    jsonschema.validate(yaml.safe_load((LIBRARY / f"{name}.yaml").read_text()), tree_schema())


def test_shared_include_matches_the_json_schema() -> None:
    jsonschema.validate(yaml.safe_load((LIBRARY / "shared" / "grasping.yaml").read_text()), tree_schema())


def test_the_schema_itself_is_valid_and_lists_every_skill() -> None:
    from dexagent.skills.registry import REGISTRY

    schema = tree_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for name in REGISTRY.names():
        assert f"skill_{name}" in schema["$defs"]


SCHEMA_CATCHES = [
    "unknown_skill",
    "missing_param",
    "wrong_param_type",
    "unknown_param",
    "retry_without_attempts",
    "wrong_memory_type",
    "two_types",
    "empty_sequence",
    "repeat_times_and_until",
    "unknown_top_level_key",
    "recovery_without_recover",
    "skill_params_not_mapping",
    "for_each_as_reference",
]


@pytest.mark.parametrize("name", SCHEMA_CATCHES)
def test_the_schema_rejects_broken_files_an_editor_can_flag(name: str) -> None:
    document = yaml.safe_load((Path(__file__).parent / "broken" / f"{name}.yaml").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, tree_schema())


def test_dot_source_draws_conditions_as_hexagons() -> None:
    source = to_dot(load_tree("grasp_object")).source
    assert "shape=hexagon" in source and "subtree grasp_with_recovery" in source


def test_render_refuses_unknown_formats(tmp_path: Path) -> None:
    from dexagent.trees.errors import RenderError

    with pytest.raises(RenderError, match="use .svg or .png"):
        render(load_tree("grasp_object"), tmp_path / "tree.jpg")


@pytest.mark.parametrize("name", NAMES)
def test_bundled_tree_builds_with_the_real_skills(name: str) -> None:
    from dexagent.skills.context import SkillContext
    from dexagent.trees.builder import build_tree

    # Building only constructs the leaves; nothing here touches a robot, a planner or a controller.
    context = SkillContext(robot=None, planner=None, controllers=lambda skill: None)  # type: ignore[arg-type]
    try:
        tree = build_tree(load_tree(name), context)
        leaves = [behaviour for behaviour in tree.root.iterate() if not behaviour.children]
        assert all(type(leaf).__module__.startswith("dexagent.skills.") for leaf in leaves)
        assert {"PlanStep", "Reset"} <= {type(leaf).__name__ for leaf in leaves}
    finally:
        context.shutdown()
