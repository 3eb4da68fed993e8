"""Inverse kinematics (mink) and motion primitives for scripted experts (grasp, push-then-grasp).

Everything here works on the 7 arm joints and the hand's "grasp_site" (the point
between thumb and fingertips, in the palm frame: z = approach, x = pinch axis).
IK runs on a bare copy of the embodiment (no objects), so it is independent of
the scene and cheap to build.
"""

from __future__ import annotations

from collections.abc import Callable

import mink
import mujoco
import numpy as np

from dexagent.hardware.errors import HardwareError
from dexagent.hardware.sim.model import ARM_HOME, ARM_JOINTS, build_model

GRASP_SITE = "grasp_site"


class ArmIK:
    """Differential IK for the grasp site's pose, iterated to convergence from a start configuration."""

    def __init__(self) -> None:
        self.model = build_model(None)
        self.configuration = mink.Configuration(self.model)
        self._arm_qpos = np.array([self.model.joint(j).qposadr[0] for j in ARM_JOINTS])
        self._arm_dof = np.array([self.model.joint(j).dofadr[0] for j in ARM_JOINTS])
        self._frame_task = mink.FrameTask(
            GRASP_SITE, "site", position_cost=1.0, orientation_cost=0.5, lm_damping=1e-3
        )
        posture = np.zeros(self.model.nq)
        posture[self._arm_qpos] = ARM_HOME
        # A weak pull toward home keeps the redundant 7th DoF (elbow swivel) away from odd postures.
        self._posture_task = mink.PostureTask(self.model, cost=1e-3)
        self._posture_task.set_target(posture)
        self._limits = [mink.ConfigurationLimit(self.model)]

    def site_pose(self, arm_q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Forward kinematics: the grasp site's position float[3] and rotation float[3,3] at `arm_q`."""
        self.configuration.update(self._full_q(arm_q))
        data = self.configuration.data
        site = data.site(GRASP_SITE)
        return site.xpos.copy(), site.xmat.reshape(3, 3).copy()

    def shift(self, arm_q: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """Arm joints float[7] that move the site by `offset` float[3] (world, m) at its rotation, to
        first order (exact enough for a few cm)."""
        self.configuration.update(self._full_q(arm_q))
        translation, rotation = np.zeros((3, self.model.nv)), np.zeros((3, self.model.nv))
        mujoco.mj_jacSite(
            self.model, self.configuration.data, translation, rotation, self.model.site(GRASP_SITE).id
        )
        jacobian = np.vstack([translation[:, self._arm_dof], rotation[:, self._arm_dof]])
        twist = np.concatenate([np.asarray(offset, float), np.zeros(3)])
        return arm_q + np.linalg.lstsq(jacobian, twist, rcond=None)[0]

    def solve(
        self,
        arm_q: np.ndarray,
        target_pos: np.ndarray,
        target_rot: np.ndarray,
        *,
        iterations: int = 200,
        position_tolerance: float = 2e-3,
        rotation_tolerance: float = 2e-2,
    ) -> tuple[np.ndarray, float]:
        """Arm joints float[7] that put the site at (target_pos float[3], target_rot float[3,3]).

        Starts from `arm_q` (so consecutive targets give smooth paths) and returns the
        joints and the remaining position error (m).
        """
        self.configuration.update(self._full_q(arm_q))
        target = mink.SE3.from_rotation_and_translation(mink.SO3.from_matrix(target_rot), target_pos)
        self._frame_task.set_target(target)
        dt = 0.05
        best, stalled = np.inf, 0
        for _ in range(iterations):
            residual = self._frame_task.compute_error(self.configuration)
            error = float(np.linalg.norm(residual[:3])) + 0.1 * float(np.linalg.norm(residual[3:]))
            if error < best - 1e-4:
                best, stalled = error, 0
            else:
                stalled += 1
            converged = np.linalg.norm(residual[:3]) < position_tolerance
            if (converged and np.linalg.norm(residual[3:]) < rotation_tolerance) or stalled >= 15:
                break  # reached, or stuck against a joint limit: more iterations only cost time
            velocity = mink.solve_ik(
                self.configuration,
                [self._frame_task, self._posture_task],
                dt,
                solver="daqp",
                damping=1e-3,
                limits=self._limits,
            )
            self.configuration.integrate_inplace(velocity, dt)
        position, _ = self.site_pose(self.configuration.q[self._arm_qpos])
        return self.configuration.q[self._arm_qpos].copy(), float(np.linalg.norm(position - target_pos))

    def _full_q(self, arm_q: np.ndarray) -> np.ndarray:
        q = np.zeros(self.model.nq)
        q[self._arm_qpos] = arm_q
        return q


def solve_ik(
    ik: ArmIK, arm_q: np.ndarray, target_pos: np.ndarray, target_rot: np.ndarray, *, tolerance: float = 0.01
) -> np.ndarray:
    """Arm joints float[7] reaching the pose, or `HardwareError` when it is out of reach."""
    solution, error = ik.solve(arm_q, np.asarray(target_pos, float), np.asarray(target_rot, float))
    if error > tolerance:
        raise HardwareError(
            f"grasp pose {np.round(target_pos, 3).tolist()} is out of reach (IK error {error * 100:.1f} cm)"
        )
    return solution


def min_jerk(ticks: int) -> np.ndarray:
    """float[ticks]: a smooth 0 -> 1 profile with zero velocity and acceleration at both ends."""
    s = np.arange(1, ticks + 1) / ticks
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def ease_out(ticks: int) -> np.ndarray:
    """float[ticks]: a 0 -> 1 profile that starts at full speed (3 / ticks) and stops smoothly.

    Moves re-planned while the arm is already moving use it: a minimum-jerk profile starts at
    rest, so re-planning one every tick would command almost no motion at all.
    """
    s = np.arange(1, ticks + 1) / ticks
    return 1 - (1 - s) ** 3


Profile = Callable[[int], np.ndarray]


def plan_joint_path(
    q_from: np.ndarray, q_to: np.ndarray, ticks: int, profile: Profile = min_jerk
) -> np.ndarray:
    """float[ticks, 7]: a joint-space move along `profile` (minimum jerk), ending exactly at `q_to`."""
    shape = profile(max(1, ticks))[:, None]
    return np.asarray(q_from)[None, :] + shape * (np.asarray(q_to) - np.asarray(q_from))[None, :]


def plan_cartesian_path(
    ik: ArmIK,
    arm_q: np.ndarray,
    waypoints: list[np.ndarray],
    rotation: np.ndarray,
    ticks_per_segment: list[int],
    *,
    tolerance: float = 0.01,
    profile: Profile = min_jerk,
    turn_from: np.ndarray | None = None,
) -> np.ndarray:
    """float[sum(ticks), 7]: the site moves in straight lines through `waypoints` float[3] at fixed rotation.

    The first waypoint is where the site starts; each segment is timed by `profile` (minimum jerk).
    `turn_from` float[3,3]: the site's rotation at the start; the first segment turns it to `rotation`
    along the same profile (the shortest turn) instead of holding `rotation` from the first tick.
    """
    if len(ticks_per_segment) != len(waypoints) - 1:
        raise ValueError("need one tick count per segment (len(waypoints) - 1)")
    path = []
    q = np.asarray(arm_q, float)
    turn = None if turn_from is None else (mink.SO3.from_matrix(turn_from), mink.SO3.from_matrix(rotation))
    for start, end, ticks in zip(waypoints[:-1], waypoints[1:], ticks_per_segment, strict=True):
        for s in profile(max(1, ticks)):
            alpha = float(np.clip(s, 0.0, 1.0))
            along = rotation if turn is None else turn[0].interpolate(turn[1], alpha).as_matrix()
            q = solve_ik(ik, q, start + s * (end - start), along, tolerance=tolerance)
            path.append(q)
        turn = None
    return np.array(path)


def site_rotation(approach: np.ndarray, pinch_axis: np.ndarray) -> np.ndarray:
    """float[3,3] rotation of the grasp site: z along `approach`, x along `pinch_axis` (made orthogonal)."""
    z = np.asarray(approach, float) / np.linalg.norm(approach)
    x = np.asarray(pinch_axis, float) - z * (z @ pinch_axis)
    norm = np.linalg.norm(x)
    if norm < 1e-6:
        raise ValueError("pinch axis is parallel to the approach direction")
    x /= norm
    return np.column_stack([x, np.cross(z, x), z])
