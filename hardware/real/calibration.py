"""How far a real robot is from the sim embodiment the shipped controllers were trained on.

`compare_to_sim(config)` lists each difference that matters to a policy trained in the sim:
joint limits and home pose (per joint), the head camera's position, viewing direction and
field of view, the wrist camera's field of view and the images' aspect ratio. Each row says
whether it is close enough, differs (expect lower success), or is far (retrain or fine-tune
on demonstrations from this robot: `dexagent collect --robot real`). Measure the head
camera's pose with a tape from the arm base (or a checkerboard and OpenCV's solvePnP) and
write it in the config's `calibration:` section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from dexagent.hardware.real.config import RealRobotConfig
from dexagent.hardware.types import ARM_DOF

Verdict = Literal["ok", "differs", "far"]

# The sim embodiment (hardware/sim): camera placement and optics.
SIM_HEAD_POSITION = (1.05, 0.0, 0.78)
SIM_HEAD_LOOK_AT = (0.47, 0.0, 0.0)
SIM_HEAD_FOV_DEG = 50.0
SIM_WRIST_FOV_DEG = 75.0
SIM_ASPECT = 1.0  # square images

# Thresholds (differs, far) per kind of quantity.
JOINT_DEG = (5.0, 20.0)
POSITION_M = (0.05, 0.20)
ANGLE_DEG = (5.0, 15.0)
FOV_DEG = (5.0, 15.0)


@dataclass(frozen=True)
class Difference:
    what: str
    sim: str
    real: str
    verdict: Verdict


def _verdict(amount: float, limits: tuple[float, float]) -> Verdict:
    return "ok" if amount <= limits[0] else "differs" if amount <= limits[1] else "far"


def _sim_arm() -> tuple[np.ndarray, np.ndarray]:
    from dexagent.hardware.sim.embodiment import ARM_HOME, ARM_LIMITS

    return np.degrees(ARM_LIMITS), np.degrees(ARM_HOME)


def _direction(position: tuple[float, ...], target: tuple[float, ...]) -> np.ndarray:
    forward = np.subtract(target, position).astype(float)
    return forward / np.linalg.norm(forward)


def compare_to_sim(config: RealRobotConfig) -> list[Difference]:
    """Every difference between `config` and the sim embodiment, with a verdict each."""
    return [
        *_arm_rows(config),
        *_head_camera_rows(config),
        *_wrist_camera_rows(config),
        *_aspect_rows(config),
    ]


def _arm_rows(config: RealRobotConfig) -> list[Difference]:
    """Each arm joint's range and home pose against the sim's."""
    rows: list[Difference] = []
    limits, home = _sim_arm()
    for i in range(ARM_DOF):
        # The policy saw joints only inside the sim's limits: a narrower real range cuts its motions.
        lower, upper = config.arm.lower_deg[i], config.arm.upper_deg[i]
        narrower = max(0.0, lower + limits[i], limits[i] - upper)
        rows.append(
            Difference(
                f"joint{i + 1} range (deg)",
                f"[{-limits[i]:.0f}, {limits[i]:.0f}]",
                f"[{lower:.0f}, {upper:.0f}]",
                _verdict(narrower, JOINT_DEG),
            )
        )
        real_home = config.poses.home[i]
        rows.append(
            Difference(
                f"joint{i + 1} home (deg)",
                f"{home[i]:.1f}",
                f"{real_home:.1f}",
                _verdict(abs(real_home - home[i]), JOINT_DEG),
            )
        )
    return rows


def _head_camera_rows(config: RealRobotConfig) -> list[Difference]:
    """The head camera's position, viewing direction and field of view against the sim's."""
    head = config.calibration.head_camera
    if head is None:
        return [
            Difference(
                "head camera pose",
                _point(SIM_HEAD_POSITION),
                "not measured (calibration.head_camera)",
                "differs",
            )
        ]
    offset = float(np.linalg.norm(np.subtract(head.position_m, SIM_HEAD_POSITION)))
    cosine = float(
        np.clip(
            _direction(head.position_m, head.look_at_m) @ _direction(SIM_HEAD_POSITION, SIM_HEAD_LOOK_AT),
            -1,
            1,
        )
    )
    angle = math.degrees(math.acos(cosine))
    fov = head.vertical_fov_deg
    return [
        Difference(
            "head camera position (m)",
            _point(SIM_HEAD_POSITION),
            _point(head.position_m),
            _verdict(offset, POSITION_M),
        ),
        Difference("head camera direction (deg off)", "0", f"{angle:.1f}", _verdict(angle, ANGLE_DEG)),
        _fov_row("head", SIM_HEAD_FOV_DEG, fov),
    ]


def _wrist_camera_rows(config: RealRobotConfig) -> list[Difference]:
    """The wrist camera's field of view against the sim's, where it was measured."""
    wrist = config.calibration.wrist_vertical_fov_deg
    if wrist is None:
        return []
    return [_fov_row("wrist", SIM_WRIST_FOV_DEG, wrist)]


def _fov_row(camera: str, sim_deg: float, real_deg: float) -> Difference:
    """A camera's vertical field of view against the sim's."""
    return Difference(
        f"{camera} camera vertical fov (deg)",
        f"{sim_deg:.0f}",
        f"{real_deg:.0f}",
        _verdict(abs(real_deg - sim_deg), FOV_DEG),
    )


def _aspect_rows(config: RealRobotConfig) -> list[Difference]:
    """Each camera's image aspect against the sim's square images."""
    rows: list[Difference] = []
    for name in ("head", "wrist"):
        camera = getattr(config.cameras, name)
        aspect = camera.width / camera.height
        # The policy resizes every frame to a square: a 4:3 frame reaches it squashed sideways.
        rows.append(
            Difference(
                f"{name} image aspect",
                "1:1",
                f"{camera.width}x{camera.height}",
                "ok" if aspect == SIM_ASPECT else "differs",
            )
        )
    return rows


def _point(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:.2f}" for v in values) + ")"
