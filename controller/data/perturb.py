"""DART-style noise injection for demonstrations: execute a perturbed expert, record its clean action.

A policy trained on perfect demos never sees a state off the expert's path, so its first
small error compounds (it reached the right object but closed a few centimetres off). Here
the arm joints of the executed action get a slowly varying (Ornstein-Uhlenbeck) offset in
free-space phases, while the demonstration records the expert's own action for that tick:
the expert replays absolute joint targets, so its action *is* the correction back to its
path from wherever the noise pushed the arm (Laskey et al., DART, CoRL 2017).

Noise fades out over the last straight-line move before the hand closes and is off while
the hand closes, lifts and holds, so a kept demo still ends in a clean grasp.

Push demos can also start their push too high (`push_height`): the executed descent to the push
start ends 0.3-1 x push_height above it, and the offset fades out while the fingers close the gap
to the object, so the demo shows a hand arriving high and sinking to the push's line before it
touches, labelled with the expert's own (lower) path. Learned push students began their pushes
1.5-3 cm high and swept over thin plates, a state the joint noise (faded out by then) never shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dexagent.hardware import Box, Observation
from dexagent.hardware.types import ARM_DOF

if TYPE_CHECKING:  # the scripted stack (mink, experts) loads only where demos are recorded
    from dexagent.controller.scripted import ScriptedController

# Phase name -> how the noise scale evolves over it: "full" or "fade" (1 -> 0 across the phase).
NOISY_PHASES = {
    "approach": "full",
    "pause": "full",
    "descend": "fade",
    "retreat": "full",
    "line_up": "full",
    "move_in": "fade",
}
CORRELATION_TICKS = 10.0  # the offset's time constant at 20 Hz (0.5 s): drifts, not jitter
MAX_PUSH_HEIGHT = 0.05  # m: higher, the fingertips clear every flat object by far


def push_height_problem(push_height: float, skill: str) -> str | None:
    """Why `push_height` (m) cannot perturb `skill`'s demos, or None when it can."""
    if not 0.0 <= push_height <= MAX_PUSH_HEIGHT:
        return f"push height must be in 0..{MAX_PUSH_HEIGHT} m, got {push_height}"
    if push_height > 0 and skill != "push_then_grasp":
        return f"push height perturbs push demos; skill {skill!r} has no push"
    return None


class PerturbedExpert:
    """Wraps a `ScriptedController`: `act` returns clean + noise; `label` is the clean action to record."""

    def __init__(
        self, controller: ScriptedController, noise: float, seed: int, *, push_height: float = 0.0
    ) -> None:
        if noise < 0:
            raise ValueError(f"noise must be non-negative, got {noise}")
        problem = push_height_problem(push_height, controller.skill)
        if problem:
            raise ValueError(problem)
        self.controller = controller
        self.noise = noise
        self._rng = np.random.default_rng([seed, 0xDA27])
        # This attempt's height offset at the push start (m), drawn once per demo from its own stream,
        # so that the joint noise (and every store recorded before the height) stays as it was.
        self.push_height = float(np.random.default_rng([seed, 0x4E16]).uniform(0.3, 1.0)) * push_height
        self._offset = np.zeros(ARM_DOF)
        self._rho = float(np.exp(-1.0 / CORRELATION_TICKS))
        self.label: np.ndarray | None = None  # float32[13], the expert's action of the last tick

    def reset(self, observation: Observation, target_box: Box) -> None:
        self.controller.reset(observation, target_box)
        # DART's label is the way back to the expert's own path, not a re-plan from the noisy state.
        self.controller.replan_on_drift(False)
        self._offset[:] = 0.0
        self.label = None

    def act(self, observation: Observation) -> np.ndarray:
        clean = self.controller.act(observation)
        self.label = clean
        # Innovations keep the offset's stationary std at `noise` rad per joint.
        innovation = self._rng.standard_normal(ARM_DOF) * self.noise * np.sqrt(1.0 - self._rho**2)
        self._offset = self._rho * self._offset + innovation
        perturbed = clean.copy()
        perturbed[:ARM_DOF] += self._scale() * self._offset
        height = self.push_height * self._height_scale()
        if height > 0:
            perturbed[:ARM_DOF] = self._raised(perturbed[:ARM_DOF], height)
        return perturbed.astype(np.float32)

    def _height_scale(self) -> float:
        """0 -> 1 over the push's descent, 1 -> 0 while the fingers close the gap to the object."""
        expert = self.controller.expert
        if expert is None or expert.done or self.push_height == 0:
            return 0.0
        phase = getattr(expert, "phase", "")
        if phase == "descend":
            return float(getattr(expert, "phase_progress", 1.0))
        if phase == "push1":
            return float(expert.gap_left())  # type: ignore[attr-defined]  # the push expert's
        return 0.0

    def _raised(self, arm_q: np.ndarray, height: float) -> np.ndarray:
        expert = self.controller.expert
        return expert.ik.shift(arm_q, np.array([0.0, 0.0, height]))  # type: ignore[union-attr]

    def _scale(self) -> float:
        expert = self.controller.expert
        if expert is None or expert.done:
            return 0.0
        kind = NOISY_PHASES.get(getattr(expert, "phase", ""))
        if kind == "full":
            return 1.0
        if kind == "fade":
            return max(0.0, 1.0 - float(getattr(expert, "phase_progress", 1.0)))
        return 0.0

    # The rest of the Controller protocol and the expert's flags pass through.
    @property
    def done(self) -> bool:
        return self.controller.done

    @property
    def failed(self) -> bool:
        return self.controller.failed

    @property
    def failure_reason(self) -> str | None:
        return self.controller.failure_reason

    def close(self) -> None:
        self.controller.close()
