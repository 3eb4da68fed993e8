"""The controller-driven skill specs: what the bundled ones say, and what a registration refuses."""

from __future__ import annotations

import pytest

from dexagent.controller.skill_spec import (
    CONTROLLED_SKILLS,
    ControlledSkill,
    ControlledSkillError,
    ControlledSkillRegistry,
    UnknownControlledSkillError,
)
from dexagent.hardware.sim.expert import GraspExpert
from dexagent.hardware.sim.push_expert import PushThenGraspExpert


def _spec(name: str = "wave", **fields: object) -> ControlledSkill:
    values: dict[str, object] = {
        "description": "Wave at the target.",
        "budget_s": 5.0,
        "attempt_seconds": 4.0,
    }
    values.update(fields)
    return ControlledSkill(name=name, **values)  # type: ignore[arg-type]


def test_the_bundled_skills_name_their_experts_budgets_and_targets() -> None:
    assert CONTROLLED_SKILLS.names() == ("grasp", "push_then_grasp")
    grasp, push = CONTROLLED_SKILLS.get("grasp"), CONTROLLED_SKILLS.get("push_then_grasp")
    assert grasp.expert_factory() is GraspExpert and push.expert_factory() is PushThenGraspExpert
    assert (grasp.budget_s, grasp.attempt_seconds, grasp.flat_target) == (15.0, 12.0, False)
    assert (push.budget_s, push.attempt_seconds, push.flat_target) == (30.0, 20.0, True)
    assert (
        CONTROLLED_SKILLS.for_flat_target(True) is push and CONTROLLED_SKILLS.for_flat_target(False) is grasp
    )
    assert push.instruction_text("the plate") == "push the plate over the table edge, then grasp it"


@pytest.mark.parametrize(
    ("skill", "text", "target"),
    [
        ("grasp", "grasp the red cup", "red cup"),
        ("grasp", "Pick up  the green water bottle.", "green water bottle"),
        ("grasp", "the duck", "duck"),
        ("grasp", "grasp", "grasp"),  # nothing but the verb: kept whole, not emptied
        ("push_then_grasp", "push the plate over the table edge, then grasp it", "plate"),
        ("push_then_grasp", "push and grasp the book", "book"),
        ("push_then_grasp", "push the book", "book"),
    ],
)
def test_an_instructions_target_is_read_back_from_its_text(skill: str, text: str, target: str) -> None:
    spec = CONTROLLED_SKILLS.get(skill)
    assert spec.target_of(text) == target
    assert spec.target_of(spec.instruction_text(f"the {target}")) == target  # round trip


@pytest.mark.parametrize(
    ("word", "skill"),
    [
        ("Pick-Up", "grasp"),
        ("pick_up", "grasp"),
        ("PushThenGrasp", "push_then_grasp"),
        ("push", "push_then_grasp"),
    ],
)
def test_a_skill_is_found_by_any_spelling_of_its_words(word: str, skill: str) -> None:
    found = CONTROLLED_SKILLS.by_word(word)
    assert found is not None and found.name == skill


def test_an_unknown_skill_names_the_valid_ones() -> None:
    assert CONTROLLED_SKILLS.by_word("fly") is None
    with pytest.raises(
        UnknownControlledSkillError, match="unknown skill 'fly'; valid skills: grasp, push_then_grasp"
    ):
        CONTROLLED_SKILLS.get("fly")


def test_a_name_or_a_word_that_another_skill_has_is_refused() -> None:
    registry = ControlledSkillRegistry()
    registry.register(_spec(synonyms=("greet",)))
    with pytest.raises(ControlledSkillError, match="already registered"):
        registry.register(_spec())
    with pytest.raises(ControlledSkillError, match="greet already means 'wave'"):
        registry.register(_spec("salute", synonyms=("Greet",)))
    assert registry.names() == ("wave",)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"name": "two words"}, "identifier"),
        ({"description": "two\nlines"}, "one-line description"),
        ({"budget_s": 0.0}, "must be positive"),
        ({"expert": "dexagent.hardware.sim.expert.GraspExpert"}, "module:attribute"),
        ({"sentence": "wave"}, "{target}"),
    ],
)
def test_a_malformed_spec_is_refused(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ControlledSkillError, match=problem):
        _spec(**fields)  # type: ignore[arg-type]


def test_a_spec_without_an_expert_says_so_when_one_is_asked_for() -> None:
    with pytest.raises(ControlledSkillError, match="has no scripted expert"):
        _spec().expert_factory()


def test_subscribers_hear_of_skills_registered_before_and_after_and_of_those_taken_away() -> None:
    registry = ControlledSkillRegistry()
    registry.register(_spec())
    heard: list[str] = []
    registry.subscribe(lambda spec: heard.append(f"+{spec.name}"), lambda spec: heard.append(f"-{spec.name}"))
    registry.register(_spec("salute"))
    registry.unregister("wave")
    assert heard == ["+wave", "+salute", "-wave"]
    assert registry.names() == ("salute",)
