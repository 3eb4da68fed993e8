"""Robots: the `Robot` protocol, the safety layer, the MuJoCo sim and real drivers.

Nothing here imports any other dexagent folder.
"""

from dexagent.hardware.errors import HardwareError, UnsafeActionError
from dexagent.hardware.safety import SafeRobot, SafetyLayer
from dexagent.hardware.types import (
    ACTION_DIM,
    ARM_DOF,
    HAND_CLOSED_BELOW,
    HAND_DOF,
    Box,
    Observation,
    Robot,
    RobotSpec,
    hand_closed,
    object_under_box,
)

__all__ = [
    "ACTION_DIM",
    "ARM_DOF",
    "HAND_CLOSED_BELOW",
    "HAND_DOF",
    "Box",
    "HardwareError",
    "Observation",
    "Robot",
    "RobotSpec",
    "SafeRobot",
    "SafetyLayer",
    "UnsafeActionError",
    "hand_closed",
    "object_under_box",
]
