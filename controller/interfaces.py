"""The contracts every controller and mask tracker implements (learned, scripted, paper)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from dexagent.hardware import Box, Observation


@runtime_checkable
class MaskTracker(Protocol):
    """Turns a target box into a mask on the first frame, then follows it frame by frame."""

    def start(self, observation: Observation, target_box: Box) -> np.ndarray:
        """The target's mask bool[H, W] in `observation.head_rgb`."""

    def step(self, observation: Observation) -> np.ndarray:
        """The target's mask bool[H, W] in the new head image."""


@runtime_checkable
class Controller(Protocol):
    """Closed-loop low-level control of one skill (grasp or push_then_grasp).

    A run loads each skill's controller once; `reset` is called once per attempt with
    the planner's box around the target in the head image; `act` is then called every
    control tick (20 Hz) and returns the next joint targets, float32[J] for a robot of J joints.
    Controllers never block a tick for long: chunk inference runs ahead in the background
    (receding horizon).
    """

    def reset(self, observation: Observation, target_box: Box) -> None: ...

    def act(self, observation: Observation) -> np.ndarray:
        """The next float32[J] action: the arm joint targets in rad, then the hand commands in [0, 1]."""

    def close(self) -> None:
        """Stop the attempt's background work (a finished or preempted skill calls this); safe to
        call twice. A run keeps its controllers loaded: the next attempt `reset`s this one again."""
