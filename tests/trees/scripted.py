"""A tiny skill registry of scripted stand-ins, so tree semantics are tested without a robot.

Each skill runs for `ticks` ticks (RUNNING), then returns the next outcome scripted for
it (SUCCESS when the script runs out). Every start is logged with its resolved params.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import py_trees
from py_trees.common import Status
from pydantic import BaseModel, ConfigDict

from dexagent.skills.params import parse_ref
from dexagent.skills.registry import SkillInfo, SkillRegistry


class TargetParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str


class PromptParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str
    max_steps: int = 10


@dataclass
class Script:
    """Outcomes per skill name, consumed one per activation, and the log of activations."""

    outcomes: dict[str, list[Status]] = field(default_factory=dict)
    ticks: int = 1
    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    def calls(self) -> list[str]:
        """Activations as "skill(value, ...)" strings."""
        return [f"{name}({', '.join(str(v) for v in params.values())})" for name, params in self.log]


class ScriptedSkill(py_trees.behaviour.Behaviour):
    def __init__(self, name: str, skill: str, raw_params: Mapping[str, Any], script: Script):
        super().__init__(name)
        self.skill = skill
        self.raw_params = dict(raw_params)
        self.script = script
        self.remaining = 0
        self.outcome = Status.SUCCESS
        self.reader = self.attach_blackboard_client(name=name)
        for value in self.raw_params.values():
            ref = parse_ref(value)
            if ref is not None:
                self.reader.register_key(key=ref.absolute_key, access=py_trees.common.Access.READ)

    def initialise(self) -> None:
        resolved = {}
        for key, value in self.raw_params.items():
            ref = parse_ref(value)
            resolved[key] = self.reader.get(ref.absolute_key) if ref else value
        self.script.log.append((self.skill, resolved))
        queue = self.script.outcomes.get(self.skill, [])
        self.outcome = queue.pop(0) if queue else Status.SUCCESS
        self.remaining = self.script.ticks

    def update(self) -> Status:
        if self.remaining > 0:
            self.remaining -= 1
            return Status.RUNNING
        return self.outcome

    def terminate(self, new_status: Status) -> None:
        if new_status == Status.INVALID and self.status == Status.RUNNING:
            self.script.stopped.append(self.skill)


def scripted_registry(script: Script) -> SkillRegistry:
    """grasp/push_then_grasp/holding/target_visible(target), reset(), completion_check/plan(prompt)."""
    registry = SkillRegistry()
    specs: list[tuple[str, type[BaseModel], str]] = [
        ("grasp", TargetParams, "action"),
        ("push_then_grasp", TargetParams, "action"),
        ("reset", NoParams, "action"),
        ("completion_check", PromptParams, "condition"),
        ("plan", PlanParams, "action"),
        ("holding", TargetParams, "condition"),
        ("target_visible", TargetParams, "condition"),
    ]
    for name, params, kind in specs:

        def factory(node_name: str, raw: Mapping[str, Any], context: Any, skill: str = name) -> ScriptedSkill:
            return ScriptedSkill(node_name, skill, raw, script)

        registry.register(SkillInfo(name, f"scripted {name}", kind, params, factory))  # type: ignore[arg-type]
    return registry


def tick_until_done(tree: py_trees.behaviour.Behaviour, max_ticks: int = 200) -> tuple[Status, int]:
    """Tick `tree` until it is not RUNNING; returns the final status and the number of ticks."""
    for tick in range(1, max_ticks + 1):
        tree.tick_once()
        if tree.status != Status.RUNNING:
            return tree.status, tick
    raise AssertionError(f"still running after {max_ticks} ticks")
