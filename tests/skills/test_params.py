"""Parameters: literal values checked at load time, "{key}" references resolved when a skill starts."""

from __future__ import annotations

import pytest

from dexagent.skills import (
    REGISTRY,
    BlackboardRef,
    SkillParamError,
    parse_ref,
    resolve_params,
    validate_static,
)
from dexagent.skills.planning import Instruction

GRASP = REGISTRY.get("grasp")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("{target}", "target"),
        ("{ target }", "target"),
        ("{/abs/key}", "/abs/key"),
        ("{plan.first}", "plan.first"),
    ],
)
def test_parse_ref_reads_whole_string_references(text: str, key: str) -> None:
    assert parse_ref(text) == BlackboardRef(key)


@pytest.mark.parametrize("text", ["the {red} cup", "{}", "{1abc}", "target", 3, None])
def test_parse_ref_ignores_everything_else(text: object) -> None:
    assert parse_ref(text) is None


def test_reference_keys_are_absolute_on_the_blackboard() -> None:
    assert BlackboardRef("target").absolute_key == "/target"
    assert str(BlackboardRef("target")) == "{target}"


@pytest.mark.parametrize(
    ("raw", "field", "problem"),
    [
        ({}, "target", "Field required"),
        ({"target": ""}, "target", "at least 1 character"),
        ({"target": 3}, "target", "expected a string"),
        ({"target": "cup", "budget_s": -1}, "budget_s", "expected a number > 0"),
        ({"target": "cup", "speed": 2}, "speed", r"unknown parameter \(allowed: target, budget_s"),
    ],
)
def test_validate_static_names_the_field_and_the_problem(raw: dict, field: str, problem: str) -> None:
    with pytest.raises(SkillParamError, match=problem) as caught:
        validate_static(GRASP, raw)
    assert caught.value.skill == "grasp"
    assert caught.value.field == field
    assert str(caught.value).startswith(f"grasp: parameter '{field}'")


def test_validate_static_accepts_a_reference_for_a_required_field() -> None:
    validate_static(GRASP, {"target": "{target}"})
    validate_static(GRASP, {"target": "{instruction}", "budget_s": 5})


def test_validate_static_rejects_a_non_mapping() -> None:
    with pytest.raises(SkillParamError, match="expected a mapping, got list"):
        validate_static(GRASP, ["cup"])  # type: ignore[arg-type]


def test_resolve_params_reads_references_from_the_blackboard() -> None:
    params = resolve_params(GRASP, {"target": "{target}", "budget_s": 4}, {"/target": "the red cup"})
    assert params.model_dump()["target"] == "the red cup"
    assert params.model_dump()["budget_s"] == 4.0


def test_resolve_params_takes_an_instruction_for_a_target() -> None:
    instruction = Instruction(target="the green bottle", text="grasp the green bottle")
    params = resolve_params(GRASP, {"target": "{instruction}"}, {"/instruction": instruction})
    assert params.model_dump()["target"] == "the green bottle"


def test_resolve_params_reports_an_unset_key() -> None:
    expected = r"parameter 'target': blackboard key '/tgt' \(from \{tgt\}\) is not set"
    with pytest.raises(SkillParamError, match=expected):
        resolve_params(GRASP, {"target": "{tgt}"}, {"/target": "cup"})


def test_resolve_params_reports_a_referenced_value_of_the_wrong_type() -> None:
    with pytest.raises(SkillParamError, match="parameter 'budget_s': expected a number > 0"):
        resolve_params(GRASP, {"target": "cup", "budget_s": "{budget}"}, {"/budget": "soon"})
