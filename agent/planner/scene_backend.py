"""The `scene` planner: the planner's four stages answered from the simulator's ground truth.

Offline and deterministic, for sim runs, evaluation and tests. It reads the scene's object
tags, head-camera segmentation and object poses; the prompt grammar is in `grammar.py`.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from dexagent.agent.planner.errors import PlannerError
from dexagent.agent.planner.grammar import (
    LIBRARY_WORDS,
    SceneObjectLike,
    TargetQuery,
    object_words,
    parse_prompt,
)
from dexagent.agent.planner.grammar import parse_description as _parse_description
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import Box, Observation
from dexagent.hardware.sim.scene_spec import TABLE_X, TABLE_Y
from dexagent.skills.planning import AttemptRecord, Instruction, Plan, Verdict

# An object whose lowest point is higher than this above the table is not resting on it (held or lifted).
ON_TABLE_MAX_HEIGHT = 0.05


class SceneObjectInfo(SceneObjectLike, Protocol):
    @property
    def index(self) -> int: ...
    @property
    def flat(self) -> bool: ...


class GroundTruthScene(Protocol):
    """What the scene planner reads from the simulator (`SimRobot` provides all of it)."""

    @property
    def objects(self) -> Sequence[SceneObjectInfo]: ...
    def object_position(self, i: int) -> np.ndarray: ...
    def object_height(self, i: int) -> float: ...
    def object_box(self, i: int) -> Box | None: ...
    def is_lifted(self, i: int) -> bool: ...
    def in_contact_with_hand(self, i: int) -> bool: ...


def _words(text: str) -> str:
    """'The red_soda_can #2' -> 'red soda can 2' (how targets and names are compared)."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("_", " "))
    return " ".join(w for w in words if w not in ("the", "a", "an"))


class ScenePlanner:
    """A `Planner` that answers from the sim's ground truth (no model, no network).

    `box_noise` > 0 perturbs ground boxes by that fraction of their size (seeded), to
    exercise a controller with imperfect boxes; `max_failures` failed attempts on one
    object drop it from the plan (the paper's planner also moves on).
    """

    def __init__(
        self, robot: GroundTruthScene, *, box_noise: float = 0.0, seed: int = 0, max_failures: int = 3
    ) -> None:
        if box_noise < 0:
            raise PlannerError(f"box_noise must be >= 0 (a fraction of the box size), got {box_noise}")
        if max_failures < 1:
            raise PlannerError(f"max_failures must be >= 1, got {max_failures}")
        self.robot = robot
        self.box_noise = box_noise
        self.max_failures = max_failures
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()  # the noise generator; the robot is only read

    def __repr__(self) -> str:
        return f"ScenePlanner({len(self.robot.objects)} objects)"

    def describe(self) -> str:
        """One line for logs and the CLI."""
        return f"scene planner: ground truth of {len(self.robot.objects)} simulated objects"

    # --- ground truth helpers ---------------------------------------------------------------

    def on_table(self, i: int) -> bool:
        """Whether object `i` rests on the table (not held, lifted, in the bin or on the floor)."""
        x, y, _ = (float(v) for v in self.robot.object_position(i))
        inside = TABLE_X[0] <= x <= TABLE_X[1] and TABLE_Y[0] <= y <= TABLE_Y[1]
        return inside and self.robot.object_height(i) < ON_TABLE_MAX_HEIGHT

    def _query(self, prompt: str) -> TargetQuery:
        return parse_prompt(prompt, self.robot.objects)

    def target_phrase(self, obj: SceneObjectInfo) -> str:
        """The referring expression for `obj` in instructions: 'the red soda can' ('... 2' for repeats)."""
        return "the " + obj.name.replace("_", " ")

    def instruction_for(self, obj: SceneObjectInfo) -> Instruction:
        """The instruction to grasp `obj`: the skill for flat targets (push_then_grasp) for flat objects,
        the first other one (grasp) otherwise."""
        target = self.target_phrase(obj)
        spec = CONTROLLED_SKILLS.for_flat_target(obj.flat)
        return Instruction(skill=spec.name, target=target, text=spec.instruction_text(target))

    def resolve(self, target: str) -> int:
        """The index of the object `target` refers to: its name, else a description (prefer on-table)."""
        wanted = _words(target)
        for obj in self.robot.objects:
            if _words(obj.name) == wanted:
                return obj.index
        scene_words = {w for obj in self.robot.objects for w in object_words(obj)}
        try:
            query = _parse_description(target, target.lower(), LIBRARY_WORDS | scene_words, scene_words)
            matches = [obj.index for obj in self.robot.objects if query.matches(obj)]
        except PlannerError:
            matches = []  # words outside the grammar ("on the left") name nothing we can find
        if not matches:
            names = ", ".join(self.target_phrase(obj) for obj in self.robot.objects)
            raise PlannerError(f"no object in the scene matches {target!r}; the objects are: {names}")
        resting = [i for i in matches if self.on_table(i)]
        return (resting or matches)[0]

    def _failures(self, history: Sequence[AttemptRecord]) -> Counter[int]:
        failed: Counter[int] = Counter()
        for attempt in history:
            if not attempt.success:
                try:
                    failed[self.resolve(attempt.instruction.target)] += 1
                except PlannerError:
                    continue  # an attempt at something not in this scene says nothing about it
        return failed

    # --- the Planner protocol ----------------------------------------------------------------

    def propose(self, prompt: str, observation: Observation, history: Sequence[AttemptRecord]) -> Plan:
        """Every matching object still on the table (one for a singular prompt), least-failed first."""
        query = self._query(prompt)
        matching = [obj for obj in self.robot.objects if query.matches(obj)]
        if not matching and not query.plural:
            names = ", ".join(self.target_phrase(obj) for obj in self.robot.objects)
            raise PlannerError(
                f"no object in the scene is {query.describe()} (prompt {prompt!r}); the objects are: {names}"
            )
        remaining = [obj for obj in matching if self.on_table(obj.index)]
        if not query.plural and len(remaining) < len(matching):
            return Plan(
                instructions=(), reasoning=f"{query.describe()} has been taken off the table; nothing left"
            )
        failed = self._failures(history)
        given_up = [obj for obj in remaining if failed[obj.index] >= self.max_failures]
        todo = sorted(
            (obj for obj in remaining if failed[obj.index] < self.max_failures),
            key=lambda obj: (failed[obj.index], obj.index),
        )
        if not query.plural:
            todo = todo[:1]
        reasoning = f"{prompt!r} asks for {query.describe()}: {len(matching)} in the scene, "
        reasoning += f"{len(remaining)} on the table"
        if todo:
            reasoning += "; next: " + ", ".join(self.target_phrase(obj) for obj in todo)
        if given_up:
            reasoning += f"; gave up after {self.max_failures} failed attempts on: "
            reasoning += ", ".join(self.target_phrase(obj) for obj in given_up)
        return Plan(instructions=tuple(self.instruction_for(obj) for obj in todo), reasoning=reasoning)

    def ground(self, instruction: Instruction, observation: Observation) -> Box:
        """The target's visible pixels in `observation.head_rgb`, as a box (optionally perturbed)."""
        index = self.resolve(instruction.target)
        segmentation = observation.head_segmentation
        if segmentation is not None and segmentation.shape == observation.head_rgb.shape[:2]:
            # Use the observation's own segmentation: it matches the image the caller holds, and
            # rendering a fresh one from this (worker) thread would race the tick thread.
            box = Box.from_mask(segmentation == index)
        else:
            box = self.robot.object_box(index)
        if box is None:
            raise PlannerError(f"{instruction.target} is not visible in the head image")
        if self.box_noise > 0:
            box = self._perturb(box, observation.head_rgb.shape[1], observation.head_rgb.shape[0])
        return box

    def _perturb(self, box: Box, width: int, height: int) -> Box:
        with self._lock:
            jitter = self._rng.normal(0.0, self.box_noise, size=4) * [
                box.width,
                box.height,
                box.width,
                box.height,
            ]
        x1, y1, x2, y2 = (np.asarray(box.as_tuple()) + jitter).tolist()
        x1, x2 = sorted((min(max(x1, 0.0), width - 1.0), min(max(x2, 1.0), float(width))))
        y1, y2 = sorted((min(max(y1, 0.0), height - 1.0), min(max(y2, 1.0), float(height))))
        return Box(x1, y1, max(x2, x1 + 1.0), max(y2, y1 + 1.0))

    def verify_grasp(self, instruction: Instruction, observation: Observation) -> Verdict:
        """Held means lifted at least 10 cm and touching the hand."""
        index = self.resolve(instruction.target)
        height = self.robot.object_height(index)
        lifted, touching = self.robot.is_lifted(index), self.robot.in_contact_with_hand(index)
        contact = "touching the hand" if touching else "not touching the hand"
        return Verdict(
            ok=lifted and touching,
            reasoning=f"{instruction.target} is {height * 100:.1f} cm above the table and {contact}",
        )

    def is_complete(self, prompt: str, first_observation: Observation, observation: Observation) -> Verdict:
        """Complete when no matching object is left on the table (for a singular prompt: one is gone)."""
        query = self._query(prompt)
        matching = [obj for obj in self.robot.objects if query.matches(obj)]
        remaining = [obj for obj in matching if self.on_table(obj.index)]
        if not query.plural:
            done = bool(matching) and len(remaining) < len(matching)
            state = "has been taken off the table" if done else "is still on the table"
            return Verdict(ok=done, reasoning=f"{query.describe()} {state}")
        if not remaining:
            # "no objects are left", not "none of all objects is left"
            left = query.describe().removeprefix("all ")
            return Verdict(ok=True, reasoning=f"no {left} are left on the table")
        names = ", ".join(self.target_phrase(obj) for obj in remaining)
        return Verdict(
            ok=False, reasoning=f"{len(remaining)} of {query.describe()} still on the table: {names}"
        )
