"""Robots: the `Robot` protocol, the safety layer, the MuJoCo sim and real drivers.

Nothing here imports any other dexagent folder.
"""

# The names below load on first use (PEP 562): `import dexagent.hardware.sim.scene_spec` for a
# command's --help must not pay for numpy and the safety layer.
from typing import TYPE_CHECKING

from dexagent.hardware.lazy_exports import lazy_exports

_EXPORTS = {
    "HardwareError": "dexagent.hardware.errors",
    "UnsafeActionError": "dexagent.hardware.errors",
    "SafeRobot": "dexagent.hardware.safety",
    "SafetyLayer": "dexagent.hardware.safety",
    **dict.fromkeys(
        [
            "ARM_DOF",
            "HAND_CLOSED_BELOW",
            "HAND_DOF",
            "Box",
            "Observation",
            "Robot",
            "RobotSpec",
            "hand_closed",
            "object_under_box",
        ],
        "dexagent.hardware.types",
    ),
}

if TYPE_CHECKING:
    from dexagent.hardware.errors import HardwareError, UnsafeActionError
    from dexagent.hardware.safety import SafeRobot, SafetyLayer
    from dexagent.hardware.types import (
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


__getattr__ = lazy_exports(globals(), _EXPORTS)
