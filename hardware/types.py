"""Values that cross the robot boundary: observations, boxes, the robot spec and protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

# The embodiment this project ships (the sim's and the real RealMan + hand's): 7 arm joints, then
# 6 hand joints. Generic code takes a robot's size from its `RobotSpec` instead.
ARM_DOF = 7
HAND_DOF = 6
# The hand counts as closed (it may be holding something) when its mean joint value is below this.
HAND_CLOSED_BELOW = 0.6


def hand_closed(joints: np.ndarray, arm_joints: int = ARM_DOF) -> bool:
    """Whether the hand of an action or state (`arm_joints` arm joints, then the hand's; 1 = open)
    is closed: its mean below HAND_CLOSED_BELOW.

    Read from a command it says what was asked; read from the measured state it says where the
    fingers stopped, which around most objects is above the threshold (hardware/sim/NOTES.md).
    """
    return float(np.mean(np.asarray(joints)[arm_joints:])) < HAND_CLOSED_BELOW


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixel coordinates of one image, (x1, y1) top-left, exclusive (x2, y2)."""

    x1: float
    y1: float
    x2: float
    y2: float

    def __post_init__(self) -> None:
        if not all(np.isfinite(v) for v in (self.x1, self.y1, self.x2, self.y2)):
            raise ValueError(f"box has a non-finite coordinate: {self}")
        if self.x2 <= self.x1 or self.y2 <= self.y1:
            raise ValueError(f"box is empty or inverted (need x1<x2 and y1<y2): {self}")

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    def iou(self, other: Box) -> float:
        ix = max(0.0, min(self.x2, other.x2) - max(self.x1, other.x1))
        iy = max(0.0, min(self.y2, other.y2) - max(self.y1, other.y1))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def scaled(self, sx: float, sy: float) -> Box:
        """The same box in an image resized by (sx, sy)."""
        return Box(self.x1 * sx, self.y1 * sy, self.x2 * sx, self.y2 * sy)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> Box | None:
        """The tight box around a boolean mask bool[H,W], or None when the mask is empty."""
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            return None
        return cls(float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


def object_under_box(
    segmentation: np.ndarray | None, box: Box, image_shape: tuple[int, int] | None = None
) -> int | None:
    """The object a box in the head image points at: the id with the most pixels inside `box`.

    segmentation: int32[H, W] object id per head pixel, -1 for background (None, as on a real
    robot: None). `box` is in pixels of an image of `image_shape` (H, W), the segmentation's own
    by default; it is rescaled to the segmentation, rounded outwards to whole pixels and clipped.
    Ties go to the lowest id; None when no object pixel is inside.
    """
    if segmentation is None:
        return None
    height, width = segmentation.shape
    if image_shape is not None:
        box = box.scaled(width / image_shape[1], height / image_shape[0])
    x1, y1 = max(0, int(np.floor(box.x1))), max(0, int(np.floor(box.y1)))
    x2, y2 = min(width, int(np.ceil(box.x2))), min(height, int(np.ceil(box.y2)))
    inside = segmentation[y1:y2, x1:x2]
    inside = inside[inside >= 0]
    if inside.size == 0:
        return None
    return int(np.bincount(inside).argmax())


@dataclass(frozen=True)
class Observation:
    """One synchronised reading of the robot.

    head_rgb: uint8[H, W, 3] from the fixed head camera.
    wrist_rgb: uint8[H, W, 3] from the wrist camera.
    state: float32[J], one value per joint of the robot's spec: the arm joints (rad) then the hand
        joints in [0, 1] (1 = open); J = 13 (7 + 6) on the sim and the real robot.
    t: seconds since the episode started (sim time in simulation).
    head_segmentation: int32[H, W] object id per head pixel, -1 for background.
        Only the simulator knows this (the `oracle` mask tracker uses it); None on a real robot.
    """

    head_rgb: np.ndarray
    wrist_rgb: np.ndarray
    state: np.ndarray
    t: float
    head_segmentation: np.ndarray | None = None


@dataclass(frozen=True)
class RobotSpec:
    """What a controller and the safety layer need to know about an embodiment.

    Its joints fix the size of every state and action on this robot: J = len(joint_names) values,
    the first `arm_joints` the arm's (rad), the rest the hand's (commands in [0, 1], 1 = open;
    skills open, close and carry with them; the default is the shipped 7 arm + 6 hand layout).
    A learned controller is refused on a robot whose J is not the one it was trained for
    (controller/factory.py).
    """

    joint_names: tuple[str, ...]
    lower: np.ndarray  # float32[J]
    upper: np.ndarray  # float32[J]
    home: np.ndarray  # float32[J]
    control_hz: float = 20.0
    # Largest change of a joint target between two ticks: rad for the arm, [0,1] units for the hand.
    # Empty (the default): 0.15 for the arm's joints, 0.25 for the hand's.
    max_step: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    camera_names: tuple[str, ...] = ("head", "wrist")
    arm_joints: int = ARM_DOF

    def __post_init__(self) -> None:
        joints = len(self.joint_names)
        if not 1 <= self.arm_joints < joints:
            raise ValueError(
                f"RobotSpec names {joints} joints: arm_joints ({self.arm_joints}) must leave at least "
                "one for the hand and take at least one"
            )
        if np.size(self.max_step) == 0:
            object.__setattr__(self, "max_step", np.where(np.arange(joints) < self.arm_joints, 0.15, 0.25))
        for name in ("lower", "upper", "home", "max_step"):
            value = np.asarray(getattr(self, name), dtype=np.float32)
            if value.shape != (joints,):
                raise ValueError(
                    f"RobotSpec.{name} must have one value per joint, shape ({joints},), got {value.shape}"
                )
            object.__setattr__(self, name, value)
        if np.any(self.lower >= self.upper):
            raise ValueError("RobotSpec.lower must be below RobotSpec.upper for every joint")


@runtime_checkable
class Robot(Protocol):
    """A robot the agent can drive: the MuJoCo sim or the real arm, hand and cameras."""

    spec: RobotSpec

    def observe(self) -> Observation: ...

    def act(self, action: np.ndarray) -> None:
        """Send one float32[J] joint-target action (J joints of `spec`); advances one control tick."""

    def home(self) -> None:
        """Move to the home pose with the hand open (blocking)."""

    def close(self) -> None: ...

    def __enter__(self) -> Robot: ...

    def __exit__(self, *exc: object) -> None: ...
