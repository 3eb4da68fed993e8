"""`ScriptedController`: the sim's privileged experts behind the `Controller` protocol.

It turns the planner's box into a target object by the sim's head segmentation,
then lets the expert for the skill drive. Each skill's spec names its expert
(`controller/skill_spec.py`); a new skill's expert comes with its registration there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import Box, Observation, object_under_box
from dexagent.hardware.sim.robot import SimRobot

if TYPE_CHECKING:
    from dexagent.hardware.sim.expert import Tempo


class ScriptedControllerError(ValueError):
    """The scripted controller cannot run: unknown skill, or no object under the target box."""


class ScriptedExpert(Protocol):
    """What a scripted expert offers: one action per tick and flags saying when and how it ended."""

    done: bool
    failed: bool
    failure_reason: str | None
    replan_on_drift: bool

    def act(self, observation: Observation) -> np.ndarray: ...

    def preview(self, ticks: int) -> np.ndarray: ...


ExpertFactory = Callable[..., ScriptedExpert]  # (robot, target index, **timing)


class ScriptedController:
    """Implements `Controller` with a privileged scripted expert (sim only)."""

    def __init__(self, robot: SimRobot, skill: str = "grasp", *, tempo: Tempo | None = None) -> None:
        """`tempo`: the expert's timing for this attempt (demos vary it; None: its base timing)."""
        spec = CONTROLLED_SKILLS.get(skill) if skill in CONTROLLED_SKILLS else None
        if spec is None or spec.expert is None:
            known = sorted(s.name for s in CONTROLLED_SKILLS if s.expert is not None)
            raise ScriptedControllerError(
                f"no scripted expert for skill {skill!r}; known: {', '.join(known)}"
            )
        self.make_expert: ExpertFactory = spec.expert_factory()
        self.robot = robot
        self.skill = skill
        self.tempo = tempo
        self.target_index: int | None = None
        self.expert: ScriptedExpert | None = None

    def reset(self, observation: Observation, target_box: Box) -> None:
        """Pick the object whose head-segmentation pixels fill `target_box` most and start its expert."""
        segmentation = observation.head_segmentation
        if segmentation is None:
            segmentation = self.robot.head_segmentation()
        image_shape = observation.head_rgb.shape[:2]
        if not observation.head_rgb.any():  # head camera not rendered: the box is in sim pixels
            image_shape = segmentation.shape
        target = object_under_box(segmentation, target_box, (int(image_shape[0]), int(image_shape[1])))
        if target is None:
            box = target_box.as_tuple()
            raise ScriptedControllerError(f"no object is visible inside the target box {box}")
        self.target_index = target
        timing = {} if self.tempo is None else {"tempo": self.tempo}
        self.expert = self.make_expert(self.robot, target, **timing)

    def act(self, observation: Observation) -> np.ndarray:
        """The expert's float32[13] action for this tick."""
        if self.expert is None:
            raise ScriptedControllerError("ScriptedController.act was called before reset()")
        return np.asarray(self.expert.act(observation), dtype=np.float32)

    def preview(self, ticks: int) -> np.ndarray:
        """float32[ticks, 13]: the expert's next actions had it driven from here on (its state unchanged)."""
        if self.expert is None:
            raise ScriptedControllerError("ScriptedController.preview was called before reset()")
        return np.asarray(self.expert.preview(ticks), dtype=np.float32)

    def replan_on_drift(self, enabled: bool) -> None:
        """Whether the expert re-plans when something else moved the arm (on after `reset`)."""
        if self.expert is None:
            raise ScriptedControllerError("replan_on_drift was called before reset()")
        self.expert.replan_on_drift = enabled

    @property
    def done(self) -> bool:
        return self.expert is not None and self.expert.done

    @property
    def failed(self) -> bool:
        """True once the expert has given up (unreachable target, or the grasp did not hold)."""
        return self.expert is not None and self.expert.failed

    @property
    def failure_reason(self) -> str | None:
        return None if self.expert is None else self.expert.failure_reason

    def close(self) -> None:
        """Nothing runs in the background; forget the expert so a stale one is never reused."""
        self.expert = None
