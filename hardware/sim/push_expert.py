"""The privileged push-then-grasp expert: slide a flat object over the table's side edge, grasp its overhang.

A flat object (plate, book, tray) is too low for the hand to close around from above. The
expert lowers the open hand behind it, fingertips just above the table, and pushes it
toward the table's +y side edge (the -y edge has the drop bin beside it) until it
overhangs by OVERHANG m; it re-measures and pushes again when the object slid less than
planned. Then the hand comes in level, from beyond the edge and the robot's side, with the
thumb under the overhang and the fingers over it, closes, and lifts the object by its edge.
It reuses the grasp expert's tick loop, grasp planning and mink IK (expert.py, grasp_poses.py,
motion.py); only the phases differ. Its `tempo` (as the grasp expert's) slows the approach, the
descent, the push and the edge grasp's move-in and pauses above the push start, so that demos do
not push, stop and close on one clock: how far the push goes has to be seen, not timed.

From any other state (a learned policy drove) it chooses the phase by geometry, as the grasp
expert does, so that its label in a state is what its own demos do there: on the push's line in
the push's rotation -> push on from there; above the push start -> descend and push; on the edge
grasp's way in -> sink or move in from there; at the grasp -> close; elsewhere it rises clear of
the table and pushes again when the object does not yet overhang enough, or lines up for the edge
grasp when it does. A push that left the object short pushes again, and a missed or dropped edge
grasp is tried again.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from dexagent.hardware.errors import HardwareError
from dexagent.hardware.sim.expert import (
    AT_GRASP,
    CLOSED,
    MAX_REGRASPS,
    ON_DESCENT_LINE,
    ROTATION_TOLERANCE,
    GraspExpert,
    Tempo,
    _distance_to_segment,
    _open,
    _Phase,
    _rotation_error,
    closure,
)
from dexagent.hardware.sim.grasp_poses import (
    UP,
    GraspPlan,
    GraspPose,
    ObjectExtent,
    object_extent,
    plan_grasp,
)
from dexagent.hardware.sim.model import ARM_HOME, CONTROL_HZ
from dexagent.hardware.sim.motion import GRASP_SITE, plan_cartesian_path, site_rotation, solve_ik
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scene_spec import TABLE_TOP_Z, TABLE_Y
from dexagent.hardware.sim.scenes import PUSH_SIDE
from dexagent.hardware.types import ARM_DOF

OVERHANG = 0.045  # m of the object past the table edge before the grasp (the paper: "extends sufficiently")
COM_MARGIN = 0.025  # m the object's middle stays on the table side of the edge
OVERHANG_TOLERANCE = 0.01  # m short of OVERHANG that still counts as pushed far enough
PUSH_SITE_Z = 0.02  # m: open fingertips reach ~13 mm below the site, so they skim 7 mm over the table
# The open fingertips' inner side sits this far behind the site along the pinch axis (model.py: tips at
# palm x = -0.040, radius 0.008). Pushing with the inner side presses the fingers against their open
# joint limit, which is stiff; pushing with their backs would fold the weakly driven fingers over.
FINGERS_BEHIND_SITE = 0.032
# Under the push load the fingers give way by about this much (measured): their open-limit constraint
# is soft because MuJoCo scales constraint stiffness by the light finger links' inertia.
FINGER_YIELD = 0.025
PUSH_START_GAP = 0.015  # m between the fingers and the object before the push starts
PUSH_SPEED = 0.08  # m/s: slow enough that the object slides with the hand instead of being struck
MAX_PUSHES = 3
# The overhang is grasped with a (nearly) level hand so the thumb's base stays below the object and can
# curl up under it; a steeper hand swings the thumb over the edge instead. Coming straight in from
# beyond the edge is out of the arm's reach, so the approach is turned toward +x (the robot's side) by
# these angles (rad); pitches tilt it down a little when the level pose is unreachable.
EDGE_GRASP_TURNS = (0.8, 0.6, 1.0, 0.4)
EDGE_GRASP_PITCHES = (0.0, 0.15, 0.3)
LINE_UP_HEIGHT = 0.15  # m above the push and the grasp entry where the hand turns between them
EDGE_GRASP_CLEARANCE = 0.14  # m back along the approach where the hand lines up before moving in
# Taking over from a state something else drove to: how near the push's line (sideways and in height,
# m) the hand must be, in the push's rotation, to push on from where it is; how far back from the
# push start (m) that still holds, and how far past it (the fingers lean on the object and yield).
ON_PUSH_LINE = 0.025
# Sideways, the push goes on from anywhere within this share of the object's half-width of its centre
# line: fingers 3.5 cm off a 9 cm plate's centre still push it. (With ON_PUSH_LINE alone, learned push
# students' low hands were labelled "rise and start over" 60% of the time; of those ticks, 57% were
# more than 2.5 cm off the centre line, median 3.5 cm.)
ON_PUSH_WIDTH = 0.5
PUSH_LINE_BEHIND = 0.05
NEAR_PUSH_START = 0.10  # m behind and sideways of the push start from which the hand moves there straight
PUSH_LINE_AHEAD = PUSH_START_GAP + FINGER_YIELD + 0.01
# Near the push, a hand turned up to this far (rad) off the push's rotation turns back on the way to
# the push line; further off, it rises and starts over. (With ROTATION_TOLERANCE alone, 43% of the
# "rise" labels that learned push students got with the hand low came from turns of 0.35 rad or more.)
TURN_ON_THE_WAY = 0.8
# A low hand over the object, or up to HOP_REACH m past or beside it, hops back: the site rises to
# HOP_CLEARANCE m above the object's top (the fingertips, ~13 mm below it, clear it by 2 cm),
# moves back above the push start and descends there.
HOP_REACH = 0.05
HOP_CLEARANCE = 0.035
# On the push line, a hand more than this (m) above the push height descends there before it pushes
# (or, with its fingers already over the object and not touching it, hops back): the push's own line
# sinks only ~3 mm over its first 16 ticks, and learned students that started their push 2 cm high
# swept over thin plates with the label "push".
PUSH_HEIGHT_TOLERANCE = 0.01
# The edge grasp's way in is a cone around its straight approach: a hand in the grasp's rotation (or
# up to TURN_ON_THE_WAY off it) within EDGE_CONE_BASE + EDGE_CONE x its distance back from the grasp
# moves straight there, turning on the way. (With the descent line's 2 cm alone, learned students
# 4-6 cm from the grasp in its rotation were labelled "rise 15 cm and line up anew"; with a 2 cm
# base, students at the grasp's depth 2.5-3 cm beside it were too. Taking over 3 cm above, below or
# beside the grasp point, at its depth or 1 cm back, the expert moved in and lifted the plate in
# 24 of 24 tries on 3 scenes.)
EDGE_CONE_BASE = 0.04
EDGE_CONE = 0.4
EDGE_REACH = 0.05  # m beside the line-up's sinking line from which the hand moves to the entry directly


def _ticks(seconds: float) -> int:
    return max(1, round(seconds * CONTROL_HZ))


class PushThenGraspExpert(GraspExpert):
    """Pushes flat object `target_index` until it overhangs the table's side edge, then grasps and lifts it.

    Same interface as `GraspExpert`: call `act(observation)` once per tick until `done`; `failed`
    and `failure_reason` say how it ended.
    """

    def __init__(
        self, robot: SimRobot, target_index: int, *, lift: float = 0.28, tempo: Tempo | None = None
    ) -> None:
        # Held by its edge the object hangs tilted, its far side well under the hand: lift higher than
        # the grasp expert's 15 cm so the whole object clears the 10 cm success height.
        super().__init__(robot, target_index, lift=lift, tempo=tempo)
        self.pushes = 0  # pushes made so far (one, plus re-pushes when the object lagged)

    def overhang(self) -> float:
        """How far (m) the target now reaches past the side edge of the table it is pushed over."""
        low, high = y_range(self.robot, self.target_index)
        return (high if PUSH_SIDE > 0 else -low) - TABLE_Y[1]

    def push_start(self) -> np.ndarray:
        """Where the grasp site starts the push for the object as it lies now (world, m)."""
        return self._push_start(object_extent(self.robot, self.target_index))

    def wanted_overhang(self) -> float:
        """OVERHANG, or less for a narrow object, so its centre of mass stays well on the table."""
        low, high = y_range(self.robot, self.target_index)
        return min(OVERHANG, (high - low) / 2 - COM_MARGIN)

    def _edge_grasp_candidates(self, side: float) -> list[GraspPose]:
        """Grasps of the overhang from beyond the edge: thumb under it, fingers on top, most natural first."""
        extent = object_extent(self.robot, self.target_index)
        overhang = max(0.0, self.overhang())
        grasp = np.array([extent.center[0], side * (TABLE_Y[1] + overhang / 2), _mid_z(extent)])
        inward = np.array([0.0, -side, 0.0])
        poses = []
        for turn in EDGE_GRASP_TURNS:
            level = np.cos(turn) * inward + np.sin(turn) * np.array([1.0, 0.0, 0.0])
            for pitch in EDGE_GRASP_PITCHES:
                approach = np.cos(pitch) * level - np.sin(pitch) * UP
                # Pinch axis down: the thumb (palm +x) ends below the overhang, beyond the table's edge.
                rotation = site_rotation(approach, -UP)
                behind = grasp - EDGE_GRASP_CLEARANCE * approach
                poses.append(GraspPose("side", grasp, rotation, (behind,)))
        return poses

    def _plan_phases(self) -> list[_Phase]:
        self.approach = "push"
        if closure(self._last[ARM_DOF:]) > CLOSED or self.pushed_enough():
            self._eased = True  # taking over from something else: the arm may be anywhere
            return self._phases_from_state()
        return self._push_phases()

    def pushed_enough(self) -> bool:
        """Whether the object overhangs as far as the edge grasp needs (OVERHANG_TOLERANCE short of it)."""
        return self.overhang() >= self.wanted_overhang() - OVERHANG_TOLERANCE

    def push_rotation(self) -> np.ndarray:
        """The grasp site's rotation while pushing: pinch axis along the push, fingers (palm -x)
        trailing the site so that they push with their inner side."""
        return site_rotation(-UP, np.array([0.0, PUSH_SIDE, 0.0]))

    # --- phases, composed from home or from any state -------------------------------------

    def _push_start(self, extent: ObjectExtent) -> np.ndarray:
        low, high = y_range(self.robot, self.target_index)
        far_edge = low if PUSH_SIDE > 0 else high
        back = far_edge + PUSH_SIDE * (FINGERS_BEHIND_SITE - PUSH_START_GAP)
        return np.array([extent.center[0], back, TABLE_TOP_Z + PUSH_SITE_Z])

    def _push_phases(self) -> list[_Phase]:
        """Approach above the push start, descend, push (up to MAX_PUSHES), check, then the edge grasp."""
        self.pushes = 0
        start = object_extent(self.robot, self.target_index)
        self._planned_at = self.robot.object_position(self.target_index).astype(float)
        rotation = self.push_rotation()

        def approach(q: np.ndarray) -> np.ndarray:
            above = self._push_start(start) + 0.1 * UP
            seconds = 1.5 * self.tempo.approach
            return self._joint_move(q, solve_ik(self.ik, np.array(ARM_HOME), above, rotation), seconds)

        def descend(q: np.ndarray) -> np.ndarray:
            low = self._push_start(start)
            ticks = _ticks(1.0 * self.tempo.descend)
            return plan_cartesian_path(self.ik, q, [low + 0.1 * UP, low], rotation, [ticks])

        pause_ticks = _ticks(self.tempo.pause) if self.tempo.pause > 0 else 0
        reach = [
            _Phase("approach", approach, _open),
            *([self._pause_phase(pause_ticks)] if pause_ticks else []),
        ]
        return [*reach, _Phase("descend", descend, _open), *self._pushing_phases()]

    def _pushing_phases(self) -> list[_Phase]:
        """Push (up to MAX_PUSHES), check, retreat, then the edge grasp."""
        return [
            *(_Phase(f"push{k + 1}", self._push, _open) for k in range(MAX_PUSHES)),
            _Phase("check", self._check_pushed, _open),
            _Phase("retreat", self._retreat, _open),
            *self._edge_grasp_phases(),
        ]

    def _edge_grasp_phases(self) -> list[_Phase]:
        return [
            _Phase("line_up", self._line_up, _open),
            _Phase("move_in", lambda q: self._edge_plan().descend, _open),
            self._close_phase(),
            self._lift_phase(from_here=self._eased),
            self._hold_phase(),
        ]

    def _phases_from_state(self) -> list[_Phase]:
        touching = self.robot.in_contact_with_hand(self.target_index)
        if closure(self._last[ARM_DOF:]) > CLOSED:
            if touching:
                return [self._lift_phase(from_here=True), self._hold_phase()]
            return [self._reopen_phase(), self._rise_phase(), *self._open_hand_phases()]
        return self._open_hand_phases()

    def _hand_now(self) -> tuple[np.ndarray, np.ndarray]:
        """The grasp site's position and rotation where the arm is (measured), not where it was
        commanded: under the push's load the command leads the hand by about 1 cm, which put a
        pushing hand past the push line's end."""
        return self.ik.site_pose(self.robot.state()[:ARM_DOF].astype(float))

    def _open_hand_phases(self) -> list[_Phase]:
        site, rotation = self._hand_now()
        if self.pushed_enough():
            return self._edge_grasp_from(site, rotation)
        turn = _rotation_error(rotation, self.push_rotation())
        if turn >= TURN_ON_THE_WAY:
            return [self._rise_phase(), *self._push_phases()]
        extent = object_extent(self.robot, self.target_index)
        start = self._push_start(extent)
        off = site - start
        along = PUSH_SIDE * off[1]  # toward the edge
        self.pushes = 0
        # Fingers behind the object push it from anywhere across its middle half, not only its centre.
        sideways = max(ON_PUSH_LINE, ON_PUSH_WIDTH * _half_width_x(extent))
        if (
            abs(off[0]) < sideways
            and abs(off[2]) < ON_PUSH_LINE
            and -PUSH_LINE_BEHIND < along < PUSH_LINE_AHEAD
        ):
            high = off[2] > PUSH_HEIGHT_TOLERANCE
            if high and self._finger_gap(site) < 0 and not self.robot.in_contact_with_hand(self.target_index):
                return self._hop_back_phases(site, extent, start)  # fingers over the object: back first
            if turn < ROTATION_TOLERANCE and not high:
                return self._pushing_phases()
            # Turned off the push's rotation or above its height on its line: turn back and sink
            # where the hand is, push on.
            level = np.array([site[0], site[1], start[2]])
            return [self._turning_phase("descend", level), *self._pushing_phases()]
        if (math.hypot(off[0], off[1]) < ON_PUSH_LINE and 0 < off[2] < LINE_UP_HEIGHT) or (
            # Behind the object, near the push start and below the line-up height: a straight move
            # there (turning on the way) corrects the hand; rising and approaching again would
            # start the demo over.
            -NEAR_PUSH_START < along < 0
            and abs(off[0]) < NEAR_PUSH_START
            and -ON_PUSH_LINE < off[2] < LINE_UP_HEIGHT
        ):
            return [self._turning_phase("descend", start), *self._pushing_phases()]
        low, high = y_range(self.robot, self.target_index)
        front = PUSH_SIDE * ((high if PUSH_SIDE > 0 else low) - start[1])  # the object's front, along
        if (
            0 <= along < front + HOP_REACH
            and abs(off[0]) < _half_width_x(extent) + HOP_REACH
            and -ON_PUSH_LINE < off[2] < LINE_UP_HEIGHT
        ):
            return self._hop_back_phases(site, extent, start)
        return [self._rise_phase(), *self._push_phases()]

    def _hop_back_phases(self, site: np.ndarray, extent: ObjectExtent, start: np.ndarray) -> list[_Phase]:
        """Low over the object or just past it: up clear of it, back above the push start, down, push.

        (Rising LINE_UP_HEIGHT and approaching again, as from further away, starts the demo over:
        39% of the "rise" labels learned students got with the hand low were over or past the object.)
        """
        clear = max(float(site[2]), extent.top + HOP_CLEARANCE)
        back = np.array([start[0], start[1], clear])
        hop = [self._turning_phase("clear", np.array([site[0], site[1], clear]))] if site[2] < clear else []
        return [
            *hop,
            self._turning_phase("back", back),
            self._straight_phase("descend", start),
            *self._pushing_phases(),
        ]

    def _turning_phase(self, name: str, goal: np.ndarray, rotation: np.ndarray | None = None) -> _Phase:
        """A straight line from where the hand is to `goal`, the hand turning to `rotation` (the
        push's when None) on the way."""
        turned = self.push_rotation() if rotation is None else rotation
        return _Phase(name, lambda q: self._line_from_here(q, goal, turned, turn=True), _open)

    def _edge_grasp_from(self, site: np.ndarray, rotation: np.ndarray) -> list[_Phase]:
        """At the grasp -> close; in the way in's cone -> move in; near the line-up's sinking line ->
        to the entry, then in (turning on the way); else rise and line up anew."""
        plan = self._current_edge_plan()
        turn = _rotation_error(rotation, plan.pose.rotation)
        grasp, entry = plan.pose.grasp, plan.pose.entry[-1]
        finish = [self._close_phase(), self._lift_phase(from_here=True), self._hold_phase()]
        if turn < ROTATION_TOLERANCE and np.linalg.norm(site - grasp) < AT_GRASP:
            return finish
        if turn < TURN_ON_THE_WAY:
            move_in = self._turning_phase("move_in", grasp, plan.pose.rotation)
            if _in_cone(site, entry, grasp):
                return [move_in, *finish]
            if _distance_to_segment(site, entry + LINE_UP_HEIGHT * UP, entry) < EDGE_REACH:
                return [self._turning_phase("line_up", entry, plan.pose.rotation), move_in, *finish]
        return [self._rise_phase(), *self._edge_grasp_phases()]

    def _current_edge_plan(self) -> GraspPlan:
        """The edge grasp's plan, made anew when there is none or the object moved since."""
        if self.plan is None or self._target_moved():
            return self._plan_edge_grasp()
        return self.plan

    def _straight_phase(self, name: str, goal: np.ndarray) -> _Phase:
        """A straight line from where the hand is to `goal`, at the descent's speed, the rotation kept."""

        return _Phase(name, lambda q: self._line_from_here(q, goal, self.ik.site_pose(q)[1]), _open)

    def _rise_phase(self) -> _Phase:
        """Straight up until the hand is LINE_UP_HEIGHT above the table, clear of what it pushed."""

        def rise(q: np.ndarray) -> np.ndarray:
            site, rotation = self.ik.site_pose(q)
            height = TABLE_TOP_Z + LINE_UP_HEIGHT - site[2]
            if height <= 0.01:
                return q[None, :]
            return self._line_from_here(q, site + height * UP, rotation)

        return _Phase("rise", rise, _open)

    def _push(self, q: np.ndarray) -> np.ndarray:
        """Push from where the hand is by the distance the object still lacks (measured now)."""
        here, _ = self.ik.site_pose(q)
        missing = self.wanted_overhang() - self.overhang()
        if missing < OVERHANG_TOLERANCE / 2 and self.pushes > 0:
            return q[None, :]
        extent = object_extent(self.robot, self.target_index)
        # First push: the fingers start PUSH_START_GAP short of the object (taking over: the gap
        # measured now) and yield under load. Later ones: the fingers still lean on the object, so
        # each further m moves it one m.
        if self.pushes == 0:
            gap = self._finger_gap(here) if self._eased else PUSH_START_GAP
            distance = max(gap, -FINGER_YIELD) + FINGER_YIELD + missing
        else:
            distance = missing + 0.005
        self.pushes += 1
        end = np.array([extent.center[0], here[1] + PUSH_SIDE * distance, TABLE_TOP_Z + PUSH_SITE_Z])
        length = float(np.linalg.norm(end - here))
        rotation = self.push_rotation()
        if self._eased:  # taking over a moving arm: start at the push's speed, as re-planned moves do
            return self._line_from_here(q, end, rotation, step=PUSH_SPEED / CONTROL_HZ)
        seconds = length / PUSH_SPEED * self.tempo.descend + 0.3
        return plan_cartesian_path(self.ik, q, [here, end], rotation, [_ticks(seconds)])

    def gap_left(self) -> float:
        """The share of the push start's gap still between the measured hand's fingers and the
        object: 1 (or more: clipped) at the push start, 0 once they touch it."""
        gap = self._finger_gap(self.robot.data.site(GRASP_SITE).xpos)
        return float(np.clip(gap / PUSH_START_GAP, 0.0, 1.0))

    def _finger_gap(self, site: np.ndarray) -> float:
        """m from the open fingers' inner side (trailing the site) to the object, along the push."""
        low, high = y_range(self.robot, self.target_index)
        back_edge = low if PUSH_SIDE > 0 else high
        return PUSH_SIDE * (back_edge - site[1]) + FINGERS_BEHIND_SITE

    def _check_pushed(self, q: np.ndarray) -> np.ndarray:
        short = self.wanted_overhang() - OVERHANG_TOLERANCE - self.overhang()
        if short <= 0:
            return q[None, :]
        if self.regrasps < MAX_REGRASPS:  # push again from the start: rise, line up behind, push
            self.regrasps += 1
            self._eased = True
            self._continue_with([self._rise_phase(), *self._push_phases()])
            return q[None, :]
        raise HardwareError(
            f"pushed {self.pushes} times but the object overhangs the edge by only "
            f"{self.overhang() * 100:.1f} cm (need {self.wanted_overhang() * 100:.1f} cm)"
        )

    def _retreat(self, q: np.ndarray) -> np.ndarray:
        here, _ = self.ik.site_pose(q)
        back = here + np.array([0.0, -PUSH_SIDE * 0.03, 0.0])
        up = back + LINE_UP_HEIGHT * UP
        return plan_cartesian_path(
            self.ik, q, [here, back, up], self.push_rotation(), [_ticks(0.3), _ticks(0.9)]
        )

    def _edge_plan(self) -> GraspPlan:
        if self.plan is None:
            raise HardwareError("the edge grasp was not planned before moving in")
        return self.plan

    def _plan_edge_grasp(self) -> GraspPlan:
        plan = plan_grasp(
            self.ik,
            self._edge_grasp_candidates(PUSH_SIDE),
            lift=self.lift,
            entry_ticks=_ticks(0.6 * self.tempo.descend),
            descend_ticks=_ticks(1.0 * self.tempo.descend),
            lift_ticks=_ticks(1.5),
        )
        self.plan = plan
        self._planned_at = self.robot.object_position(self.target_index).astype(float)
        return plan

    def _line_up(self, q: np.ndarray) -> np.ndarray:
        plan = self._plan_edge_grasp()
        # Turn the hand over well above the table, then sink to the entry pose: a direct joint move
        # from the push pose sweeps the fingers low across the pushed object and knocks it off.
        entry = plan.pose.entry[0]
        high_q = solve_ik(self.ik, plan.entry_q, entry + LINE_UP_HEIGHT * UP, plan.pose.rotation)
        return np.concatenate([self._joint_move(q, high_q, 1.5), self._joint_move(high_q, plan.entry_q, 0.8)])


def y_range(robot: SimRobot, i: int) -> tuple[float, float]:
    """(lowest, highest) world y (m) that object `i`'s geoms reach now; exact for boxes and cylinders."""
    model, data = robot.model, robot.data
    low, high = np.inf, -np.inf
    for geom in np.flatnonzero(model.geom_bodyid == model.body(f"object{i}").id):
        row = data.geom_xmat[geom].reshape(3, 3)[1]  # how the geom's axes project on world y
        size = model.geom_size[geom]
        kind = model.geom_type[geom]
        if kind == mujoco.mjtGeom.mjGEOM_BOX:
            reach = float(np.abs(row) @ size)
        elif kind == mujoco.mjtGeom.mjGEOM_CYLINDER:
            reach = float(size[0] * np.hypot(row[0], row[1]) + size[1] * abs(row[2]))
        else:  # other shapes: their bounding box, a slight overestimate
            reach = float(np.abs(row) @ model.geom_aabb[geom][3:])
        centre = float(data.geom_xpos[geom][1])
        low, high = min(low, centre - reach), max(high, centre + reach)
    return low, high


def _in_cone(site: np.ndarray, entry: np.ndarray, grasp: np.ndarray) -> bool:
    """Whether `site` is on the way from `entry` into `grasp`: at most AT_GRASP past the grasp, no
    further back than the entry, within EDGE_CONE_BASE + EDGE_CONE x its distance back of the line."""
    length = float(np.linalg.norm(grasp - entry))
    approach = (grasp - entry) / length
    offset = site - grasp
    back = -float(offset @ approach)
    beside = float(np.linalg.norm(offset + back * approach))
    within = beside < EDGE_CONE_BASE + EDGE_CONE * max(back, 0.0)
    return within and -AT_GRASP < back < length + ON_DESCENT_LINE


def _half_width_x(extent: ObjectExtent) -> float:
    """The object's half-extent along world x (across the push), m."""
    return float(abs(extent.axis_u[0]) * extent.half_u + abs(extent.axis_v[0]) * extent.half_v)


def _mid_z(extent: ObjectExtent) -> float:
    return (extent.bottom + extent.top) / 2
