"""Scripted stand-ins for the skills, so tree semantics are tested without a robot or a planner.

`scripted_registry(script)` copies every skill of the real registry (same names, same
parameter models, so bundled trees validate exactly as in a real run) but builds
`ScriptedSkill`s: each activation runs `script.ticks` ticks (RUNNING), then returns the
next outcome scripted for that skill (SUCCESS once the script runs out). `plan` also
writes the scripted instructions to the blackboard, as the real one does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import py_trees
from py_trees.common import Access, Status

from dexagent.skills.params import parse_ref
from dexagent.skills.planning import Instruction
from dexagent.skills.registry import REGISTRY, SkillInfo, SkillRegistry

S, F = Status.SUCCESS, Status.FAILURE


@dataclass
class Script:
    """Outcomes per skill, consumed one per activation; plans (lists of targets) for `plan`; the call log."""

    outcomes: dict[str, list[Status]] = field(default_factory=dict)
    plans: list[list[str]] = field(default_factory=list)
    ticks: int = 1
    log: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    return value.target if isinstance(value, Instruction) else str(value)


class ScriptedSkill(py_trees.behaviour.Behaviour):
    """A leaf that logs "skill(param values)" when it starts and plays its scripted outcome."""

    def __init__(self, name: str, skill: str, raw_params: Mapping[str, Any], script: Script):
        super().__init__(name)
        self.skill = skill
        self.raw_params = dict(raw_params)
        self.script = script
        self.remaining = 0
        self.outcome = Status.SUCCESS
        self.bb = self.attach_blackboard_client(name=name)
        for value in self.raw_params.values():
            ref = parse_ref(value)
            if ref is not None:
                self.bb.register_key(key=ref.absolute_key, access=Access.READ)
        if skill == "plan":
            for key in ("/instructions", "/instruction", "/target"):
                self.bb.register_key(key=key, access=Access.WRITE)

    def initialise(self) -> None:
        shown = []
        for value in self.raw_params.values():
            ref = parse_ref(value)
            shown.append(_text(self.bb.get(ref.absolute_key)) if ref else str(value))
        self.script.log.append(f"{self.skill}({', '.join(shown)})")
        queue = self.script.outcomes.get(self.skill, [])
        self.outcome = queue.pop(0) if queue else Status.SUCCESS
        self.remaining = self.script.ticks
        if self.skill == "plan":
            targets = self.script.plans.pop(0) if self.script.plans else []
            instructions = [Instruction(target=t, text=f"grasp {t}") for t in targets]
            self.bb.set("/instructions", instructions)
            self.bb.set("/instruction", instructions[0] if instructions else None)
            self.bb.set("/target", targets[0] if targets else None)

    def update(self) -> Status:
        if self.remaining > 0:
            self.remaining -= 1
            return Status.RUNNING
        return self.outcome

    def terminate(self, new_status: Status) -> None:
        if new_status == Status.INVALID and self.status == Status.RUNNING:
            self.script.stopped.append(self.skill)


def scripted_registry(script: Script, base: SkillRegistry = REGISTRY) -> SkillRegistry:
    """A registry with `base`'s skills (names, params, kinds) whose behaviours follow `script`."""
    registry = SkillRegistry()
    for info in base:

        def factory(node: str, raw: Mapping[str, Any], context: Any, skill: str = info.name) -> ScriptedSkill:
            return ScriptedSkill(node, skill, raw, script)

        registry.register(SkillInfo(info.name, info.description, info.kind, info.params, factory))
    return registry


def tick_until_done(tree: py_trees.behaviour.Behaviour, max_ticks: int = 500) -> tuple[Status, int]:
    """Tick `tree` until it is not RUNNING; the final status and the number of ticks."""
    for tick in range(1, max_ticks + 1):
        tree.tick_once()
        if tree.status != Status.RUNNING:
            return tree.status, tick
    raise AssertionError(f"still running after {max_ticks} ticks")
