"""On-policy data with expert labels (DAgger, Ross et al. 2011): the student drives, the expert labels.

A policy trained on the expert's own demonstrations never sees the states its own errors
lead to, so it never learns the way back (it closes a few centimetres off and never
re-opens). Here a learned checkpoint (the student) and the sim's privileged expert both
act at every tick from the same observation; the robot executes the student's action,
or the expert's for a segment of ticks drawn with probability `beta`, and the episode
records the expert's action as the label. The experts act from any state
(`hardware/sim/expert.py`), so a label is what the expert would command from where the
student left the arm, including opening a hand closed beside the target and grasping
again: recoveries become data.

Every rolled-out episode is kept, failed ones too: their labels are the expert's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dexagent.controller.interfaces import Controller
from dexagent.hardware import Box, Observation
from dexagent.hardware.types import ARM_DOF

if TYPE_CHECKING:
    from dexagent.controller.scripted import ScriptedController

SEGMENT_TICKS = 8  # who drives is drawn per 0.4 s segment: a learned chunk runs 6 ticks at a time
CLOSED, OPENED = 0.5, 0.3  # mean finger closure that counts as a closed hand, and as opened again


def hand_reopens(actions: np.ndarray) -> int:
    """How often a sequence of float[T, 13] actions opens the hand again after closing it."""
    closure = 1.0 - np.asarray(actions)[:, ARM_DOF + 1 :].mean(axis=1)  # thumb rotation aside
    closed, reopens = False, 0
    for value in closure:
        if value > CLOSED:
            closed = True
        elif closed and value < OPENED:
            closed, reopens = False, reopens + 1
    return reopens


class OnPolicyController:
    """Implements `Controller`: executes the student or, per segment with probability beta, the expert.

    `label` is the expert's action of the last tick (what the episode records), `label_chunk` the
    expert's `horizon` actions from that tick's state on (label first); `expert_ticks` counts the
    ticks the expert drove.
    """

    def __init__(
        self, student: Controller, expert: ScriptedController, beta: float, seed: int, horizon: int
    ) -> None:
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must be in 0..1, got {beta}")
        if horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {horizon}")
        self.horizon = horizon
        self.student = student
        self.expert = expert
        self.beta = beta
        self._rng = np.random.default_rng([seed, 0xDA66E2])
        self._expert_drives = False
        self.ticks = 0
        self.expert_ticks = 0
        self.label: np.ndarray | None = None
        self.label_chunk: np.ndarray | None = None

    def reset(self, observation: Observation, target_box: Box) -> None:
        self.student.reset(observation, target_box)
        self.expert.reset(observation, target_box)
        self.ticks = self.expert_ticks = 0
        self.label = self.label_chunk = None

    def act(self, observation: Observation) -> np.ndarray:
        """The executed float32[13] action; both controllers act every tick so each keeps its state."""
        expert_action = self.expert.act(observation)
        student_action = self.student.act(observation)
        if self.ticks % SEGMENT_TICKS == 0:
            self._expert_drives = bool(self._rng.random() < self.beta)
        self.ticks += 1
        self.expert_ticks += self._expert_drives
        self.label = expert_action
        self.label_chunk = np.concatenate([expert_action[None], self.expert.preview(self.horizon - 1)])
        return expert_action if self._expert_drives else student_action

    @property
    def failed(self) -> bool:
        """The expert gave up (out of reach, regrasps spent): from here its labels would mean nothing."""
        return self.expert.failed

    def close(self) -> None:
        self.student.close()
        self.expert.close()
