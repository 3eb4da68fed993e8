"""Where each camera pixel's ray meets the table top, for the sim's head and wrist cameras.

Table-space augmentation (`TablePattern`) draws a texture in the table's own coordinates, so
a pattern is foreshortened as a real table's is and both cameras of a sample see the same
pattern in the same place. The head camera is fixed; the wrist camera rides the arm, so its
pose comes from the frame's recorded arm joints through the sim embodiment's forward
kinematics (the same MJCF the demos were rendered from). Images are square, as the sim renders
them: row 0 is the top of the image.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from dexagent.hardware.types import ARM_DOF

CAMERAS = ("head", "wrist")
# Table-space patterns are drawn on a grid this many times finer than the image, then averaged down.
PLANE_SUPERSAMPLE = 2


@functools.lru_cache(maxsize=1)
def _embodiment() -> tuple[Any, np.ndarray]:
    """The bare sim model (white table, no objects) and its arm joints' qpos addresses."""
    from dexagent.hardware.sim.model import ARM_JOINTS, build_model

    model = build_model(None)
    arm = np.array([model.joint(name).qposadr[0] for name in ARM_JOINTS])
    return model, arm


def _check_arm_joints(arm_joints: np.ndarray) -> np.ndarray:
    arm_joints = np.asarray(arm_joints, dtype=np.float64)
    if arm_joints.ndim != 2 or arm_joints.shape[1] != ARM_DOF:
        raise ValueError(f"arm_joints must be (B, {ARM_DOF}), got shape {arm_joints.shape}")
    return arm_joints


def camera_poses(camera: str, arm_joints: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """float64 (B, 3) positions, (B, 3, 3) camera-to-world rotations and the vertical field of
    view (rad) of `camera` for each row of `arm_joints` float (B, ARM_DOF)."""
    import mujoco

    if camera not in CAMERAS:
        raise ValueError(f"camera must be one of {CAMERAS}, got {camera!r}")
    arm_joints = _check_arm_joints(arm_joints)
    model, arm = _embodiment()
    data = mujoco.MjData(model)
    index = model.camera(camera).id
    positions = np.empty((len(arm_joints), 3))
    rotations = np.empty((len(arm_joints), 3, 3))
    for row, joints in enumerate(arm_joints):
        data.qpos[arm] = joints
        mujoco.mj_kinematics(model, data)
        mujoco.mj_camlight(model, data)
        positions[row] = data.cam_xpos[index]
        rotations[row] = data.cam_xmat[index].reshape(3, 3)
    return positions, rotations, float(np.deg2rad(model.cam_fovy[index]))


@functools.lru_cache(maxsize=8)
def _rays(size: int, fovy: float) -> torch.Tensor:
    """float32 (3, size * size): each pixel's ray direction in the camera frame, row-major."""
    half = np.tan(fovy / 2)
    centres = (np.arange(size) + 0.5) / size * 2 - 1  # -1 .. 1 across the image
    right = np.broadcast_to(centres[None, :], (size, size)) * half
    up = np.broadcast_to(-centres[:, None], (size, size)) * half  # row 0 is the top
    # MuJoCo cameras look along their -z axis, x to the right of the image, y up.
    rays = np.stack([right, up, -np.ones((size, size))]).reshape(3, -1)
    return torch.from_numpy(rays.astype(np.float32))


def table_coordinates(camera: str, arm_joints: np.ndarray, size: int) -> torch.Tensor:
    """float32 (B, 2, size, size): the table-plane (x, y) in metres that each pixel of a
    `size`-pixel square image of `camera` sees, NaN where its ray does not reach the plane.
    A camera fixed to the world (the head) is computed once per size and shared by all rows."""
    model, _ = _embodiment()
    if camera in CAMERAS and model.cam_bodyid[model.camera(camera).id] == 0:
        _check_arm_joints(arm_joints)
        return _fixed_camera_coordinates(camera, size).expand(len(arm_joints), -1, -1, -1)
    return _coordinates(camera, arm_joints, size)


@functools.lru_cache(maxsize=4)
def _fixed_camera_coordinates(camera: str, size: int) -> torch.Tensor:
    return _coordinates(camera, np.zeros((1, ARM_DOF)), size)


def _coordinates(camera: str, arm_joints: np.ndarray, size: int) -> torch.Tensor:
    from dexagent.hardware.sim.scene_spec import TABLE_TOP_Z

    positions, rotations, fovy = camera_poses(camera, arm_joints)
    position = torch.from_numpy(positions.astype(np.float32))[:, :, None]  # (B, 3, 1)
    world = torch.from_numpy(rotations.astype(np.float32)) @ _rays(size, fovy)  # (B, 3, S*S)
    reach = (TABLE_TOP_Z - position[:, 2]) / world[:, 2]  # (B, S*S) ray lengths to the plane
    reach = torch.where(reach > 0, reach, torch.nan)
    xy = position[:, :2] + reach[:, None] * world[:, :2]
    return xy.view(len(arm_joints), 2, size, size)


def store_camera_coordinates(camera_key: str, states: np.ndarray, size: int) -> torch.Tensor:
    """(B, 2, kS, kS) table coordinates for a store's camera key ("head_rgb", "wrist_rgb") at
    input size `size`, on a PLANE_SUPERSAMPLE-times finer grid, from frames' states (B, J)."""
    return table_coordinates(
        camera_key.removesuffix("_rgb"), np.asarray(states)[:, :ARM_DOF], size * PLANE_SUPERSAMPLE
    )
