"""The privileged scripted grasp expert: reads object poses from the sim and drives the arm with mink IK.

Per tick it returns one 13-D action (`act`). The first tick measures the target and
its neighbours and plans the whole grasp (grasp_poses.plan_grasp: ~10-50 ms); later
ticks replay the plan. Phases (20 Hz ticks): approach the pre-grasp pose (>= 1.5 s,
joint space), descend (1 s, straight line; side grasps lower behind the object
first), close (0.8 s), lift 15 cm (1.5 s), hold (2.2 s, or longer than the robot's
`hold_seconds`). Low or wide objects are taken from above, pinching across their
narrow side; tall narrow ones (bottles) from the side.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dexagent.hardware.errors import HardwareError
from dexagent.hardware.sim.grasp_poses import grasp_candidates, object_extent, plan_grasp
from dexagent.hardware.sim.model import CONTROL_HZ
from dexagent.hardware.sim.motion import ArmIK, plan_joint_path
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.types import ARM_DOF, HAND_DOF, Observation

OPEN_HAND = np.ones(HAND_DOF)
# Closed: thumb stays opposed to the fingers (rotation command 1), everything else fully curled.
CLOSED_HAND = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
MAX_ARM_STEP = 0.12  # rad per tick at the fastest point of a joint move (the safety layer allows 0.15)

_shared_ik: ArmIK | None = None


def shared_ik() -> ArmIK:
    """One `ArmIK` per process: building it compiles a model, and experts are created per episode."""
    global _shared_ik
    if _shared_ik is None:
        _shared_ik = ArmIK()
    return _shared_ik


@dataclass
class _Phase:
    name: str
    plan: Callable[[np.ndarray], np.ndarray]  # current arm target float[7] -> arm path float[T, 7]
    hand: Callable[[int, int], np.ndarray]  # (tick, ticks) -> hand command float[6]


class GraspExpert:
    """Grasps object `target_index` of a `SimRobot` scene; call `act` once per tick until `done`."""

    def __init__(self, robot: SimRobot, target_index: int, *, lift: float = 0.15) -> None:
        robot.object_position(target_index)  # raises for a bad index
        self.robot = robot
        self.target_index = target_index
        self.lift = lift
        self.ik = shared_ik()
        self.done = False
        self.failed = False
        self.failure_reason: str | None = None
        self.approach = ""  # "top" or "side", decided on the first tick
        self._phases: list[_Phase] = []
        self._path = np.zeros((0, ARM_DOF))
        self._tick = 0
        self._phase_index = -1
        self._last = np.concatenate([robot.state()[:ARM_DOF], OPEN_HAND])

    @property
    def phase(self) -> str:
        """The name of the running phase ("" before the first tick, "done" after the last)."""
        if self.done:
            return "done"
        return self._phases[self._phase_index].name if self._phase_index >= 0 else ""

    @property
    def phase_progress(self) -> float:
        """How far the running phase is, 0 at its first tick to 1 at its last."""
        return min(1.0, self._tick / len(self._path)) if len(self._path) else 0.0

    def act(self, observation: Observation) -> np.ndarray:
        """The next float32[13] action; holds the last action once `done`."""
        if self.done:
            return self._last.astype(np.float32)
        try:
            if self._phase_index < 0:
                self._phases = self._plan_phases()
                self._start_phase(0)
            while self._tick >= len(self._path):
                if self._phase_index + 1 >= len(self._phases):
                    self._finish()
                    return self._last.astype(np.float32)
                self._start_phase(self._phase_index + 1)
        except HardwareError as error:
            self.done, self.failed, self.failure_reason = True, True, str(error)
            return self._last.astype(np.float32)
        phase = self._phases[self._phase_index]
        arm = self._path[self._tick]
        hand = phase.hand(self._tick, len(self._path))
        self._tick += 1
        self._last = np.concatenate([arm, hand])
        return self._last.astype(np.float32)

    # --- planning -------------------------------------------------------------------------

    def _start_phase(self, index: int) -> None:
        self._phase_index = index
        self._path = self._phases[index].plan(self._last[:ARM_DOF].copy())
        self._tick = 0

    def _finish(self) -> None:
        self.done = True
        if not self.robot.grasp_success(self.target_index):
            self.failed = True
            lifted = self.robot.is_lifted(self.target_index)
            self.failure_reason = "dropped the object" if lifted else "object not lifted"

    def _plan_phases(self) -> list[_Phase]:
        extent = object_extent(self.robot, self.target_index)
        others = [o.index for o in self.robot.objects if o.index != self.target_index]
        # Objects already dropped in the bin (below the table top) are out of the way.
        obstacles = [object_extent(self.robot, i) for i in others if self.robot.object_height(i) > -0.01]
        plan = plan_grasp(
            self.ik,
            grasp_candidates(extent, obstacles),
            lift=self.lift,
            # Side grasps lower behind the object first (0.75 s); the last straight line takes 1 s.
            entry_ticks=round(0.75 * CONTROL_HZ),
            descend_ticks=round(1.0 * CONTROL_HZ),
            lift_ticks=round(1.5 * CONTROL_HZ),
        )
        self.approach = plan.pose.approach
        close_ticks = round(0.8 * CONTROL_HZ)
        hold_ticks = max(round(2.2 * CONTROL_HZ), math.ceil(self.robot.hold_seconds * CONTROL_HZ) + 4)

        def open_hand(tick: int, ticks: int) -> np.ndarray:
            return OPEN_HAND.copy()

        def closing(tick: int, ticks: int) -> np.ndarray:
            s = (tick + 1) / ticks
            return OPEN_HAND + s * (CLOSED_HAND - OPEN_HAND)

        def closed(tick: int, ticks: int) -> np.ndarray:
            return CLOSED_HAND.copy()

        def approach(q: np.ndarray) -> np.ndarray:
            # Min-jerk peaks at 1.875x the mean speed; keep that under MAX_ARM_STEP per tick.
            fastest = math.ceil(1.875 * np.abs(plan.entry_q - q).max() / MAX_ARM_STEP)
            return plan_joint_path(q, plan.entry_q, max(round(1.5 * CONTROL_HZ), fastest))

        def hold_still(ticks: int) -> Callable[[np.ndarray], np.ndarray]:
            return lambda q: np.repeat(q[None, :], ticks, axis=0)

        return [
            _Phase("approach", approach, open_hand),
            _Phase("descend", lambda q: plan.descend, open_hand),
            _Phase("close", hold_still(close_ticks), closing),
            _Phase("lift", lambda q: plan.lift, closed),
            _Phase("hold", hold_still(hold_ticks), closed),
        ]
