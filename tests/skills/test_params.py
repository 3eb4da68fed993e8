"""Parameters: literal values checked at load time, "{key}" references resolved when a skill starts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dexagent.skills import (
    REGISTRY,
    BlackboardRef,
    SkillError,
    SkillParamError,
    parse_ref,
    resolve_params,
    validate_static,
)
from dexagent.skills.bundled import GraspParams
from dexagent.skills.param_fields import param
from dexagent.skills.planning import Instruction
from dexagent.skills.registry import SkillInfo

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
    assert isinstance(params, GraspParams)  # the declared dataclass, checked by pydantic
    assert (params.target, params.budget_s, params.verify_interval_s) == ("the red cup", 4.0, 2.0)


def test_resolve_params_takes_an_instruction_for_a_target() -> None:
    instruction = Instruction(target="the green bottle", text="grasp the green bottle")
    params = resolve_params(GRASP, {"target": "{instruction}"}, {"/instruction": instruction})
    assert params.target == "the green bottle"


def test_resolve_params_reports_an_unset_key() -> None:
    expected = r"parameter 'target': blackboard key '/tgt' \(from \{tgt\}\) is not set"
    with pytest.raises(SkillParamError, match=expected):
        resolve_params(GRASP, {"target": "{tgt}"}, {"/target": "cup"})


def test_resolve_params_reports_a_referenced_value_of_the_wrong_type() -> None:
    with pytest.raises(SkillParamError, match="parameter 'budget_s': expected a number > 0"):
        resolve_params(GRASP, {"target": "cup", "budget_s": "{budget}"}, {"/budget": "soon"})


@dataclass(frozen=True, kw_only=True)
class SweepParams:
    width_m: float = param(description="how wide to sweep", gt=0, le=0.5)
    passes: int = param(2, ge=1, description="how many times")
    label: str | None = param(None, min_length=1, description="what to call it")


SWEEP = SkillInfo("sweep", "Sweep the table.", "action", SweepParams, "tests:unused")


def test_a_dataclass_declaration_lists_validates_and_comes_back_as_the_dataclass() -> None:
    rows = [(r.name, r.type_name, r.required, r.default, r.description) for r in SWEEP.param_rows()]
    assert rows == [
        ("width_m", "number", True, "", "how wide to sweep"),
        ("passes", "integer", False, "2", "how many times"),
        ("label", "string | null", False, "null", "what to call it"),
    ]
    assert SWEEP.param_names() == ["width_m", "passes", "label"]
    params = resolve_params(SWEEP, {"width_m": "{w}", "passes": 3}, {"/w": 0.25})
    assert params == SweepParams(width_m=0.25, passes=3, label=None)
    for raw, problem in [
        ({"width_m": 0.6}, "parameter 'width_m': expected a number > 0 and <= 0.5"),
        ({"width_m": 0.2, "passes": 0}, "parameter 'passes': expected an integer >= 1"),
        ({"width_m": 0.2, "label": ""}, "parameter 'label'"),
        (
            {"width_m": 0.2, "speed": 1},
            r"parameter 'speed': unknown parameter \(allowed: width_m, passes, label\)",
        ),
        ({}, "parameter 'width_m': Field required"),
    ]:
        with pytest.raises(SkillParamError, match=problem):
            validate_static(SWEEP, raw)
    schema = SWEEP.params_schema()  # pydantic's schema of the model built from the declaration
    assert schema["title"] == "SweepParams" and schema["required"] == ["width_m"]
    assert schema["properties"]["width_m"]["exclusiveMinimum"] == 0
    assert schema["properties"]["passes"]["default"] == 2


def test_params_must_be_a_dataclass_or_a_pydantic_model() -> None:
    class Plain:
        width_m: float = 0.1

    with pytest.raises(
        SkillError, match="params must be a dataclass of param\\(\\) fields or a pydantic model"
    ):
        SkillInfo("sweep", "Sweep the table.", "action", Plain, "tests:unused")
