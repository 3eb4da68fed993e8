"""Where to put the hand to grasp an object: its measured extent, candidate grasp poses, reachability.

A `GraspPose` is a site pose (see motion.py: z = approach, x = pinch axis) plus the
entry waypoints the site passes through on the way in. Candidates are tried in order
and the first one whose every waypoint the arm can reach is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dexagent.hardware.errors import HardwareError
from dexagent.hardware.sim.model import ARM_HOME
from dexagent.hardware.sim.motion import ArmIK, plan_cartesian_path, site_rotation, solve_ik
from dexagent.hardware.sim.robot import SimRobot

UP = np.array([0.0, 0.0, 1.0])
SIDE_GRASP_MIN_HEIGHT = 0.13  # taller than this and narrow: approach from the side
SIDE_GRASP_MAX_HALF_WIDTH = 0.045
# Side approaches pitch down from horizontal: near the base a level palm would need more elbow bend
# than the RM75 has, so steeper pitches and approaches turned off the radial line are tried next.
SIDE_PITCHES = (0.5, 0.8, 1.1)
SIDE_YAW_OFFSETS = (0.0, 0.5, -0.5)
TOP_CLEARANCE = 0.12  # m above the grasp point where a top-down descent starts
SIDE_CLEARANCE = 0.12  # m back along the approach where a side approach starts
SITE_TO_PALM = 0.085  # m from the grasp site back past the palm's face (7.3 cm) plus 1.2 cm margin
PALM_HALF_HEIGHT = 0.045  # m, half the palm's width across the finger row (model.py)
MIN_GRASP_Z = 0.015  # m: the open fingertips reach 5 mm past the site and are 8 mm thick
# Footprints rounder than this (long side / short side) pinch along the line to the base: their own
# yaw is not visible in an image, so a policy learning from the demos could not predict it.
ROUND_ASPECT = 1.3


@dataclass(frozen=True)
class ObjectExtent:
    """Where an object is and how big it is now, in world coordinates (from its geoms' boxes)."""

    center: np.ndarray  # float[3], centre of the bounds
    bottom: float
    top: float
    axis_u: np.ndarray  # float[3], horizontal unit vector along the object's own x axis (yaw)
    half_u: float  # half-extent along axis_u
    half_v: float  # half-extent along the horizontal axis perpendicular to axis_u

    @property
    def axis_v(self) -> np.ndarray:
        return np.array([-self.axis_u[1], self.axis_u[0], 0.0])


@dataclass(frozen=True)
class GraspPose:
    approach: str  # "top" or "side"
    grasp: np.ndarray  # float[3], the site's position when the hand closes
    rotation: np.ndarray  # float[3, 3], the site's orientation throughout
    entry: tuple[np.ndarray, ...]  # float[3] waypoints before `grasp`, the first reached in joint space


def object_extent(robot: SimRobot, i: int) -> ObjectExtent:
    """Measure object `i` from the corners of its geoms' bounding boxes in the current pose."""
    model, data = robot.model, robot.data
    body = model.body(f"object{i}").id
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    corners = []
    for geom in np.flatnonzero(model.geom_bodyid == body):
        center, half = model.geom_aabb[geom][:3], model.geom_aabb[geom][3:]
        rotation = data.geom_xmat[geom].reshape(3, 3)
        corners.append(data.geom_xpos[geom][None, :] + (center[None, :] + signs * half[None, :]) @ rotation.T)
    points = np.concatenate(corners)
    frame = data.xmat[body].reshape(3, 3)
    axis_u = np.array([frame[0, 0], frame[1, 0], 0.0])
    if np.linalg.norm(axis_u) < 1e-3:  # the object's x axis points up: use its y axis for the yaw
        axis_u = np.array([frame[0, 1], frame[1, 1], 0.0])
    axis_u /= np.linalg.norm(axis_u)
    axis_v = np.array([-axis_u[1], axis_u[0], 0.0])
    along_u, along_v = points @ axis_u, points @ axis_v
    bottom, top = robot.object_z_range(i)  # exact: box corners overstate a tilted ellipsoid's height
    mid_u, mid_v = (along_u.max() + along_u.min()) / 2, (along_v.max() + along_v.min()) / 2
    return ObjectExtent(
        center=mid_u * axis_u + mid_v * axis_v + UP * (bottom + top) / 2,
        bottom=bottom,
        top=top,
        axis_u=axis_u,
        half_u=float(np.ptp(along_u) / 2),
        half_v=float(np.ptp(along_v) / 2),
    )


def wants_side_grasp(extent: ObjectExtent) -> bool:
    """Tall narrow objects (bottles) are grasped from the side, everything else from above."""
    narrow = max(extent.half_u, extent.half_v) <= SIDE_GRASP_MAX_HALF_WIDTH
    return extent.top - extent.bottom >= SIDE_GRASP_MIN_HEIGHT and narrow


def top_grasp_poses(extent: ObjectExtent) -> list[GraspPose]:
    """Pinch across the narrow horizontal side from straight above; both hand yaws, the natural one first."""
    # The hand's home yaw has the thumb toward the base: prefer the pinch direction nearest to it.
    toward_base = -np.array([extent.center[0], extent.center[1], 0.0])
    narrow, wide = sorted((extent.half_u, extent.half_v))
    if wide <= ROUND_ASPECT * narrow and np.linalg.norm(toward_base) > 1e-6:
        pinch = toward_base / np.linalg.norm(toward_base)
    else:
        pinch = extent.axis_u if extent.half_u <= extent.half_v else extent.axis_v
    if pinch @ toward_base < 0:
        pinch = -pinch
    # Pinch at the middle (below it, round objects pop up out of the fingers), but higher when the
    # palm would hit the top, and never so low that the fingertips dig into the table.
    z = max(MIN_GRASP_Z, float(extent.center[2]), extent.top - SITE_TO_PALM)
    grasp = np.array([extent.center[0], extent.center[1], z])
    return [
        GraspPose("top", grasp, site_rotation(-UP, direction), (grasp + TOP_CLEARANCE * UP,))
        for direction in (pinch, -pinch)
    ]


def side_grasp_poses(extent: ObjectExtent) -> list[GraspPose]:
    """Approach from the base's side, pitched down, fingers stacked around the object's body."""
    radial = np.array([extent.center[0], extent.center[1], 0.0])
    radial /= np.linalg.norm(radial)
    z = min(max(0.065, extent.bottom + 0.5 * (extent.top - extent.bottom)), extent.top - 0.03)
    grasp = np.array([extent.center[0], extent.center[1], z])
    poses = []
    for yaw in SIDE_YAW_OFFSETS:
        c, s = np.cos(yaw), np.sin(yaw)
        level = np.array([c * radial[0] - s * radial[1], s * radial[0] + c * radial[1], 0.0])
        for pitch in SIDE_PITCHES:
            approach = np.cos(pitch) * level - np.sin(pitch) * UP
            rotation = site_rotation(approach, np.cross(UP, level))
            behind = grasp - SIDE_CLEARANCE * approach
            poses.append(GraspPose("side", grasp, rotation, (behind + 0.06 * UP, behind)))
    return poses


def corridor_blocked(pose: GraspPose, obstacles: list[ObjectExtent]) -> bool:
    """True when another object stands in the way of the hand on its way in along the approach.

    The hand sweeps a horizontal corridor about 7 cm to either side of the approach line,
    back to 25 cm from the grasp point. Going back along it the hand rises with the
    approach's pitch; an obstacle blocks when its footprint reaches into the corridor and
    its top is above the hand's lowest point there (the palm's lower edge, 1 cm margin).
    """
    approach = pose.rotation[:, 2]
    level = np.array([approach[0], approach[1]])
    horizontal = float(np.linalg.norm(level))
    if horizontal < 0.3:  # (nearly) straight down: only the object itself is in the way
        return False
    level /= horizontal
    down = -approach[2]  # sin(pitch); `horizontal` is cos(pitch)
    start = pose.grasp[:2]
    for obstacle in obstacles:
        radius = max(obstacle.half_u, obstacle.half_v)
        offset = obstacle.center[:2] - start
        back = float(-offset @ level)  # how far back along the approach the obstacle's centre is
        if back < -radius or back > 0.25 + radius:
            continue
        lateral = abs(float(offset[0] * level[1] - offset[1] * level[0]))
        nearest_back = max(0.0, back - radius)
        # The palm's lower edge (4.5 cm off the approach line) runs back and up along the approach.
        along_edge = max(0.0, nearest_back - PALM_HALF_HEIGHT * down) / horizontal
        hand_bottom = pose.grasp[2] + along_edge * down - PALM_HALF_HEIGHT * horizontal - 0.01
        hand_bottom = min(hand_bottom, pose.grasp[2] + along_edge * down - PALM_HALF_HEIGHT)
        if lateral < radius + 0.07 and obstacle.top > hand_bottom:
            return True
    return False


def grasp_candidates(extent: ObjectExtent, obstacles: list[ObjectExtent] | None = None) -> list[GraspPose]:
    """Candidate poses in order of preference for this object's shape; blocked side approaches last."""
    if not wants_side_grasp(extent):
        return top_grasp_poses(extent)
    side = side_grasp_poses(extent)
    blocked = [corridor_blocked(pose, obstacles or []) for pose in side]
    clear = [pose for pose, stuck in zip(side, blocked, strict=True) if not stuck]
    last = [pose for pose, stuck in zip(side, blocked, strict=True) if stuck]
    return clear + top_grasp_poses(extent) + last


@dataclass(frozen=True)
class GraspPlan:
    """A reachable grasp, with the arm paths that execute it (one row per 20 Hz tick)."""

    pose: GraspPose
    entry_q: np.ndarray  # float[7], joints at the first entry waypoint
    descend: np.ndarray  # float[T, 7], entry waypoints -> grasp, straight lines
    lift: np.ndarray  # float[T, 7], grasp -> `lift` metres straight up


def plan_grasp(
    ik: ArmIK,
    candidates: list[GraspPose],
    *,
    lift: float,
    entry_ticks: int,
    descend_ticks: int,
    lift_ticks: int,
) -> GraspPlan:
    """Plan the first candidate whose whole descent and lift the arm can follow.

    Every tick of the straight-line paths is solved (not only the endpoints), so a plan
    never runs into a joint limit halfway. Raises `HardwareError` with the first miss.
    """
    error: HardwareError | None = None
    for pose in candidates:
        try:
            entry_q = solve_ik(ik, np.array(ARM_HOME), pose.entry[0], pose.rotation)
            ticks = [entry_ticks] * (len(pose.entry) - 1) + [descend_ticks]
            descend = plan_cartesian_path(ik, entry_q, [*pose.entry, pose.grasp], pose.rotation, ticks)
            lifted = pose.grasp + lift * UP
            up = plan_cartesian_path(ik, descend[-1], [pose.grasp, lifted], pose.rotation, [lift_ticks])
        except HardwareError as miss:
            error = error or miss
            continue
        return GraspPlan(pose, entry_q, descend, up)
    raise error or HardwareError("no grasp candidates")
