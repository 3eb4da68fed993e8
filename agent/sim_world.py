"""What a sim run reads of the simulator: the ground truth and the bin's drop pose.

Skills see the simulator only through `SceneTruth` (skills/context.py); this module
adapts `SimRobot` to it and adds what the skills ask of a bin (did the drop land?).
`agent/world.py` puts them into a sim run's world.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from dexagent.hardware import HAND_DOF, Box
from dexagent.hardware.sim.model import ARM_HOME, BIN_CENTER, BIN_HALF
from dexagent.hardware.sim.motion import ArmIK
from dexagent.hardware.sim.robot import SimRobot

DROP_HEIGHT = 0.2  # m above the table top for the grasp site when the hand opens over the bin


@lru_cache(maxsize=1)
def _drop_arm_pose() -> tuple[float, ...]:
    """Arm joints float[7] with the hand pointing down over the bin centre.

    A coarse search over the three pitch joints with the base turned toward the bin,
    scored by forward kinematics. A general IK solve finds wrist-flipped postures here,
    and the joint-space move from home to those sweeps the hand low; this family keeps
    the path from home a high arc (measured: the site stays above 0.19 m).
    """
    ik = ArmIK()
    target = np.array([BIN_CENTER[0], BIN_CENTER[1], DROP_HEIGHT])
    base = np.array(ARM_HOME, dtype=float)
    base[0] = math.atan2(BIN_CENTER[1], BIN_CENTER[0])
    best: tuple[float, np.ndarray] | None = None
    for shoulder in np.linspace(-0.5, 1.5, 21):
        for elbow in np.linspace(0.0, 2.3, 24):
            for wrist in np.linspace(0.0, 2.2, 12):
                q = base.copy()
                q[1], q[3], q[5] = shoulder, elbow, wrist
                position, rotation = ik.site_pose(q)
                pointing_down = -rotation[2, 2]
                score = float(np.linalg.norm(position - target)) + 0.05 * (1.0 - pointing_down)
                if best is None or score < best[0]:
                    best = (score, q)
    assert best is not None
    return tuple(float(v) for v in best[1])


def drop_pose() -> np.ndarray:
    """float32[13]: joint targets with the hand over the bin (hand values open; reset keeps the grip)."""
    return np.array(_drop_arm_pose() + (1.0,) * HAND_DOF, dtype=np.float32)


class SimTruth:
    """`SimRobot`'s ground truth as skills use it (`SceneTruth`), the bin included."""

    def __init__(self, robot: SimRobot) -> None:
        self.robot = robot

    def object_box(self, index: int) -> Box | None:
        return self.robot.object_box(index)

    def grasp_success(self, index: int) -> bool:
        return self.robot.grasp_success(index)

    def is_lifted(self, index: int) -> bool:
        return self.robot.is_lifted(index)

    def in_contact_with_hand(self, index: int) -> bool:
        return self.robot.in_contact_with_hand(index)

    def in_bin(self, index: int) -> bool:
        """The object rests within the bin's walls: not in the hand, below the drop height.

        Objects already in the bin stand upright (`remove_object` tidies them), so a later
        one can come to rest on top of them, above the table top but still in the bin.
        """
        x, y, _ = (float(v) for v in self.robot.object_position(index))
        inside = abs(x - BIN_CENTER[0]) <= BIN_HALF[0] and abs(y - BIN_CENTER[1]) <= BIN_HALF[1]
        resting = not self.robot.in_contact_with_hand(index)
        return inside and resting and self.robot.object_height(index) < DROP_HEIGHT - 0.05

    def remove_object(self, index: int) -> None:
        self.robot.remove_object(index)
