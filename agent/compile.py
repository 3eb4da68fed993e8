"""Plan -> tree: validate the planner's plan against the skill registry and pick the tree that runs it.

The planner's first plan decides the shape of the run: a prompt about every object
("clear the table", "grasp all bottles") becomes the re-planning loop of `clear_table`
or `grasp_all`; a prompt about one object becomes the tree its skill's spec names:
`grasp_object`, or `nonprehensile_grasp` when the planner chose push-then-grasp for it.
A user's `--tree` replaces the choice. The plan goes on the blackboard either way, so a
tree can start from it: the tree's first `plan` step takes it instead of asking the
planner again (skills/plan.py); later rounds re-plan (the paper's monitor loop).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import py_trees

from dexagent.controller.skill_spec import CONTROLLED_SKILLS, DEFAULT_SKILL
from dexagent.hardware import Observation
from dexagent.skills import REGISTRY, SkillContext, SkillError, SkillRegistry, validate_static
from dexagent.skills import blackboard_keys as keys
from dexagent.skills.planning import Plan
from dexagent.trees import model as m
from dexagent.trees.builder import build_behaviour
from dexagent.trees.loader import load_tree

# Words that make a prompt about a set of objects rather than one.
_PLURAL = re.compile(r"\b(all|every|each|everything|clear|clean|tidy|empty)\b", re.IGNORECASE)
_CLEAR = re.compile(r"\b(clear|clean|tidy|empty)\b", re.IGNORECASE)


class PlanError(ValueError):
    """The planner's plan names a skill or a target the registry cannot run."""


@dataclass(frozen=True)
class CompiledRun:
    """What the run loop ticks: the tree document, its root behaviour and why this tree was chosen."""

    document: m.TreeDocument
    root: py_trees.behaviour.Behaviour
    tree_name: str
    reason: str


def validate_plan(plan: Plan, registry: SkillRegistry = REGISTRY) -> None:
    """Every instruction must name a registered action skill whose parameters accept its target."""
    for number, instruction in enumerate(plan.instructions, start=1):
        where = f"instruction {number} ({instruction.text!r})"
        try:
            info = registry.get(instruction.skill)
            validate_static(info, {"target": instruction.target})
        except SkillError as error:
            raise PlanError(f"the planner's plan is not runnable: {where}: {error}") from None
        if info.kind != "action":
            raise PlanError(f"the planner's plan is not runnable: {where}: {info.name!r} is a condition")


def choose_tree(prompt: str, plan: Plan) -> tuple[str, str]:
    """The bundled tree for `prompt` given the first plan, and the reason in words."""
    if _PLURAL.search(prompt):
        if _CLEAR.search(prompt):
            return "clear_table", "the prompt asks to clear the table: plan, grasp each, re-plan until done"
        return "grasp_all", "the prompt asks for every matching object: grasp each, re-plan for what is left"
    default = _one_target_tree(DEFAULT_SKILL)
    chosen = _one_target_tree(plan.instructions[0].skill) if plan.instructions else default
    if chosen != default:
        skill = plan.instructions[0].skill.replace("_", "-")
        return chosen, f"the planner chose {skill} for the one target"
    return default, "the prompt names one object: grasp it with the recovery ladder"


def _one_target_tree(skill: str) -> str:
    """The bundled tree a controller-driven skill's spec names for one target (else the default skill's)."""
    tree = CONTROLLED_SKILLS.get(skill).tree or CONTROLLED_SKILLS.get(DEFAULT_SKILL).tree
    assert tree is not None, "the default skill's spec names its tree"
    return tree


def candidate_trees(prompt: str) -> tuple[str, ...]:
    """The bundled trees `choose_tree` can pick for `prompt`, before the first plan is known."""
    if _PLURAL.search(prompt):
        return ("clear_table",) if _CLEAR.search(prompt) else ("grasp_all",)
    return tuple(dict.fromkeys(_one_target_tree(spec.name) for spec in CONTROLLED_SKILLS))


def compile_run(
    prompt: str,
    plan: Plan,
    first_observation: Observation,
    context: SkillContext,
    tree: str | Path | None = None,
    registry: SkillRegistry = REGISTRY,
) -> CompiledRun:
    """Validate `plan`, put the run's inputs on the blackboard, build the tree (`TreeError`: a bad tree)."""
    validate_plan(plan, registry)
    if tree is None:
        name, reason = choose_tree(prompt, plan)
        document = load_tree(name, registry)
    else:
        document = load_tree(tree, registry)
        name, reason = str(tree), "the tree given with --tree"
    board = py_trees.blackboard.Blackboard
    instructions = list(plan.instructions)
    board.set(context.key(keys.PROMPT), prompt)
    board.set(context.key(keys.FIRST_OBSERVATION), first_observation)
    board.set(context.key(keys.PLAN), plan)
    board.set(context.key(keys.FIRST_PLAN), plan)
    board.set(context.key(keys.INSTRUCTIONS), instructions)
    board.set(context.key(keys.INSTRUCTION), instructions[0] if instructions else None)
    board.set(context.key(keys.TARGET), instructions[0].target if instructions else None)
    board.set(context.key(keys.HISTORY), [])
    board.set(context.key(keys.GRASPED), [])
    board.set(context.key(keys.HELD_OBJECT), None)
    board.set(context.key(keys.HELD_INDEX), None)
    root = build_behaviour(document, context, registry)
    return CompiledRun(document=document, root=root, tree_name=name, reason=reason)
