"""The privileged scripted grasp expert: reads object poses from the sim and drives the arm with mink IK.

Per tick it returns one 13-D action (`act`). The first tick measures the target and
its neighbours and plans the whole grasp (grasp_poses.plan_grasp: ~10-50 ms); later
ticks replay the plan. Phases (20 Hz ticks): approach the pre-grasp pose (>= 1.5 s,
joint space), descend (1 s, straight line; side grasps lower behind the object
first), close (0.8 s), lift 15 cm (1.5 s), hold (2.2 s, or longer than the robot's
`hold_seconds`). Low or wide objects are taken from above, pinching across their
narrow side; tall narrow ones (bottles) from the side.

It acts from any state, not only from the plan's: every tick it compares the joint
targets the robot is driving to with its own last action. When something else drove
(a learned policy during on-policy collection, a perturbation) it re-plans from where
the arm is, choosing the phase by geometry: closed on the target -> lift; closed
without it -> open, back off and grasp again; at the grasp pose -> close; on the
descent line -> descend the rest; elsewhere -> approach. Re-planned moves start at
speed (`motion.ease_out`), so a label re-planned every tick still moves the arm. A
grasp that closed on nothing, or a dropped object, is grasped again (at most
`MAX_REGRASPS` times) when the expert itself is driving.

Its `tempo` slows the approach and the descent and pauses at the pre-grasp pose (demos draw
one per episode, `Tempo.draw`): with one fixed rhythm, the tick at which the hand closes is
the same in every demo, and a policy learns to close on the clock instead of where the hand is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dexagent.hardware.errors import HardwareError
from dexagent.hardware.sim.grasp_poses import (
    UP,
    GraspPlan,
    grasp_candidates,
    object_extent,
    plan_grasp,
)
from dexagent.hardware.sim.model import ARM_HOME, CONTROL_HZ
from dexagent.hardware.sim.motion import ArmIK, ease_out, plan_cartesian_path, plan_joint_path
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.types import ARM_DOF, HAND_DOF, Observation

OPEN_HAND = np.ones(HAND_DOF)
# Closed: thumb stays opposed to the fingers (rotation command 1), everything else fully curled.
CLOSED_HAND = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
MAX_ARM_STEP = 0.12  # rad per tick at the fastest point of a joint move (the safety layer allows 0.15)
# Commanded targets further than this from the expert's last action mean something else drove.
DROVE_ARM = 0.02  # rad
DROVE_HAND = 0.15
TARGET_MOVED = 0.015  # m the target may move during the approach before the grasp is re-planned
AT_GRASP = 0.015  # m from the grasp point: close here
ON_DESCENT_LINE = 0.02  # m from the last straight segment into the grasp: descend from here
ROTATION_TOLERANCE = 0.35  # rad between the hand's rotation and the grasp's for "at" and "on the line"
TURN_STEP = 0.05  # rad per tick at the start of a re-planned move that turns the hand (ease_out)
DESCEND_STEP = 0.011  # m per tick at the start of a re-planned descent (the planned one peaks at 0.011)
MIN_MOVE_TICKS = 10  # re-planned joint moves take at least 0.5 s
CLOSED = 0.5  # mean finger closure (0 open, 1 closed) above which the hand counts as closed
MISSED_LIFT_TICKS = 4  # lift ticks before an empty hand counts as a missed grasp
MISSED_HEIGHT = 0.03  # m: a target this low while the hand lifts or holds was not taken
OFF_TABLE = -0.05  # m: a target this far below the table top fell off; no regrasp
MAX_REGRASPS = 2
BACK_OFF = 0.08  # m back along the approach, and 5 cm up, before a regrasp

_shared_ik: ArmIK | None = None


def shared_ik() -> ArmIK:
    """One `ArmIK` per process: building it compiles a model, and experts are created per episode."""
    global _shared_ik
    if _shared_ik is None:
        _shared_ik = ArmIK()
    return _shared_ik


@dataclass(frozen=True)
class Tempo:
    """How much slower than its base timing the expert moves: factors (>= 1) on the approach
    (1.5 s) and the descent (1 s), and a pause (s) at the pre-grasp pose before descending.
    The push expert applies the descent's factor to its push and its edge grasp's move-in too."""

    approach: float = 1.0
    descend: float = 1.0
    pause: float = 0.0

    def __post_init__(self) -> None:
        if not (1.0 <= self.approach <= 4.0 and 1.0 <= self.descend <= 4.0 and 0.0 <= self.pause <= 3.0):
            raise ValueError(f"tempo out of range (factors 1..4, pause 0..3 s): {self}")

    @classmethod
    def draw(cls, rng: np.random.Generator, spread: float) -> Tempo:
        """Factors uniform in [1, 1 + spread], the pause uniform in [0, spread] s."""
        approach, descend = 1.0 + spread * rng.random(2)
        return cls(float(approach), float(descend), float(spread * rng.random()))


@dataclass
class _Phase:
    name: str
    plan: Callable[[np.ndarray], np.ndarray]  # current arm target float[7] -> arm path float[T, 7]
    hand: Callable[[int, int], np.ndarray]  # (tick, ticks) -> hand command float[6]


def _rotation_error(a: np.ndarray, b: np.ndarray) -> float:
    """The angle (rad) between two rotation matrices float[3, 3]."""
    return float(np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1.0, 1.0)))


def _distance_to_segment(point: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    direction = end - start
    s = float(np.clip((point - start) @ direction / max(float(direction @ direction), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(point - (start + s * direction)))


def closure(hand: np.ndarray) -> float:
    """Mean closure of the fingers of a float[6] hand command: 0 open, 1 closed (thumb rotation aside)."""
    return float(1.0 - np.mean(hand[1:]))


class GraspExpert:
    """Grasps object `target_index` of a `SimRobot` scene; call `act` once per tick until `done`."""

    def __init__(
        self, robot: SimRobot, target_index: int, *, lift: float = 0.15, tempo: Tempo | None = None
    ) -> None:
        robot.object_position(target_index)  # raises for a bad index
        self.robot = robot
        self.target_index = target_index
        self.lift = lift
        self.tempo = tempo or Tempo()
        self.ik = shared_ik()
        self.done = False
        self.failed = False
        self.failure_reason: str | None = None
        self.approach = ""  # "top" or "side", decided on the first tick
        self.replans = 0  # times it re-planned from a state its plan did not lead to
        self.regrasps = 0  # times it opened the hand to grasp again
        # Off for DART demos, whose label is the way back to this plan's path, not a new plan.
        self.replan_on_drift = True
        self.plan: GraspPlan | None = None
        self._planned_at = np.zeros(3)  # where the target was when `plan` was made
        self._eased = False  # moves start at speed: the arm was moving when it re-planned
        self._phases: list[_Phase] = []
        self._path = np.zeros((0, ARM_DOF))
        self._tick = 0
        self._phase_index = -1
        self._hand_from = OPEN_HAND.copy()  # the hand command when the running phase started
        # What the robot is driving to now: home from home, or where something else left it.
        self._last = robot.commanded_action().astype(float)

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
        """The next float32[13] action for the state the robot is in; holds the last action once `done`."""
        if self.done:
            return self._last.astype(np.float32)
        try:
            if self._phase_index < 0:
                self._set_phases(self._plan_phases())
            else:
                self._react()
        except HardwareError as error:
            self.done, self.failed, self.failure_reason = True, True, str(error)
            return self._last.astype(np.float32)
        return self._advance()

    def preview(self, ticks: int) -> np.ndarray:
        """float32[ticks, 13]: the actions after the last one `act` returned, had the expert driven
        from here on, the world as it is now; the expert's state is left as it was.

        On-policy labels are chunks of these: the expert's own continuation from the state the
        student left, where consecutive per-tick labels would each be the first step of another
        re-plan (a chunk of them asks a hovering student to move one step and stop).
        """
        saved = dict(self.__dict__)  # every field is rebound, never mutated in place, while acting
        try:
            actions = [self._advance() for _ in range(ticks)]
            return np.array(actions, np.float32).reshape(ticks, len(self._last))
        finally:
            self.__dict__.clear()
            self.__dict__.update(saved)

    def _advance(self) -> np.ndarray:
        """The next action of the running phases, starting the next phase when one ends."""
        if self.done:
            return self._last.astype(np.float32)
        try:
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

    def grasp_point(self) -> np.ndarray:
        """float[3]: where the grasp site closes for the target as it lies now (planned if need be)."""
        return self._refresh_plan().pose.grasp.astype(float)

    # --- reacting to the state ------------------------------------------------------------

    def _react(self) -> None:
        """Re-plan when something else drove, regrasp after a miss, re-aim when the target moved."""
        commanded = self.robot.commanded_action().astype(float)
        arm_off = float(np.abs(commanded[:ARM_DOF] - self._last[:ARM_DOF]).max())
        hand_off = float(np.abs(commanded[ARM_DOF:] - self._last[ARM_DOF:]).max())
        if self.replan_on_drift and (arm_off > DROVE_ARM or hand_off > DROVE_HAND):
            self._last = commanded
            self._replan()
        elif self._missed() and self.regrasps < MAX_REGRASPS:
            self.regrasps += 1
            self._replan()
        elif self.phase in ("approach", "pause") and self._target_moved():
            self._replan()

    def _missed(self) -> bool:
        """The hand is lifting or holding, but the target is not in it and still on the table."""
        lifting = self.phase == "hold" or (self.phase == "lift" and self._tick >= MISSED_LIFT_TICKS)
        if not lifting or self.robot.in_contact_with_hand(self.target_index):
            return False
        return OFF_TABLE < self.robot.object_height(self.target_index) < MISSED_HEIGHT

    def _target_moved(self) -> bool:
        moved = self.robot.object_position(self.target_index) - self._planned_at
        return float(np.linalg.norm(moved)) > TARGET_MOVED

    def _replan(self) -> None:
        """Choose the phases for the state the robot is in now (see the module docstring)."""
        self.replans += 1
        self._eased = True
        self._set_phases(self._phases_from_state())

    def _phases_from_state(self) -> list[_Phase]:
        q = self._last[:ARM_DOF]
        touching = self.robot.in_contact_with_hand(self.target_index)
        if closure(self._last[ARM_DOF:]) > CLOSED:
            if touching:
                return [self._lift_phase(from_here=True), self._hold_phase()]
            return [self._reopen_phase(), self._back_off_phase(), *self._grasp_phases()]
        site, rotation = self.ik.site_pose(q)
        plan = self._refresh_plan(prefer=rotation if self._eased else None)
        aligned = _rotation_error(rotation, plan.pose.rotation) < ROTATION_TOLERANCE
        grasp = plan.pose.grasp
        if aligned and np.linalg.norm(site - grasp) < AT_GRASP:
            return [self._close_phase(), self._lift_phase(from_here=True), self._hold_phase()]
        if aligned and _distance_to_segment(site, plan.pose.entry[-1], grasp) < ON_DESCENT_LINE:
            return [
                self._descend_phase(from_here=True),
                self._close_phase(),
                self._lift_phase(from_here=True),
                self._hold_phase(),
            ]
        return self._grasp_phases()

    # --- planning -------------------------------------------------------------------------

    def _set_phases(self, phases: list[_Phase]) -> None:
        self._phases = phases
        self._start_phase(0)

    def _continue_with(self, phases: list[_Phase]) -> None:
        """Replace the phases after the running one."""
        self._phases = [*self._phases[: self._phase_index + 1], *phases]

    def _start_phase(self, index: int) -> None:
        self._phase_index = index
        self._hand_from = self._last[ARM_DOF:].copy()
        self._path = self._phases[index].plan(self._last[:ARM_DOF].copy())
        self._tick = 0

    def _finish(self) -> None:
        self.done = True
        if not self.robot.grasp_success(self.target_index):
            self.failed = True
            lifted = self.robot.is_lifted(self.target_index)
            self.failure_reason = "dropped the object" if lifted else "object not lifted"

    def _plan_phases(self) -> list[_Phase]:
        """The first tick's phases: the whole grasp from home, or what the state calls for elsewhere."""
        return self._phases_from_state()

    def _refresh_plan(self, prefer: np.ndarray | None = None) -> GraspPlan:
        """The grasp plan, made anew when there is none or the target has moved since it was made.

        `prefer` float[3, 3]: of equally good top grasps (the two hand yaws), take the one nearest
        this hand rotation, so a re-plan does not turn the wrist half a turn.
        """
        if self.plan is not None and not self._target_moved():
            return self.plan
        extent = object_extent(self.robot, self.target_index)
        others = [o.index for o in self.robot.objects if o.index != self.target_index]
        # Objects already dropped in the bin (below the table top) are out of the way.
        obstacles = [object_extent(self.robot, i) for i in others if self.robot.object_height(i) > -0.01]
        candidates = grasp_candidates(extent, obstacles)
        if prefer is not None and all(c.approach == "top" for c in candidates):
            candidates = sorted(candidates, key=lambda c: _rotation_error(c.rotation, prefer))
        self.plan = plan_grasp(
            self.ik,
            candidates,
            lift=self.lift,
            # Side grasps lower behind the object first (0.75 s); the last straight line takes 1 s.
            entry_ticks=round(0.75 * CONTROL_HZ * self.tempo.descend),
            descend_ticks=round(1.0 * CONTROL_HZ * self.tempo.descend),
            lift_ticks=round(1.5 * CONTROL_HZ),
        )
        self._planned_at = self.robot.object_position(self.target_index).astype(float)
        self.approach = self.plan.pose.approach
        return self.plan

    def _joint_move(self, q: np.ndarray, q_to: np.ndarray, seconds: float) -> np.ndarray:
        """A joint move to `q_to`; minimum jerk from rest, or starting at speed after a re-plan."""
        if self._eased:
            ticks = max(MIN_MOVE_TICKS, math.ceil(3 * np.abs(q_to - q).max() / MAX_ARM_STEP))
            return plan_joint_path(q, q_to, ticks, ease_out)
        # Min-jerk peaks at 1.875x the mean speed; keep that under MAX_ARM_STEP per tick.
        fastest = math.ceil(1.875 * np.abs(q_to - q).max() / MAX_ARM_STEP)
        return plan_joint_path(q, q_to, max(round(seconds * CONTROL_HZ), fastest))

    def _grasp_phases(self) -> list[_Phase]:
        """Approach, (pause,) descend, close, lift, hold; the grasp is planned when the approach starts."""
        seconds = 1.5 * self.tempo.approach
        pause_ticks = round(self.tempo.pause * CONTROL_HZ)
        return [
            _Phase("approach", lambda q: self._joint_move(q, self._refresh_plan().entry_q, seconds), _open),
            *([self._pause_phase(pause_ticks)] if pause_ticks else []),
            self._descend_phase(from_here=False),
            self._close_phase(),
            self._lift_phase(from_here=self._eased),
            self._hold_phase(),
        ]

    def _descend_phase(self, *, from_here: bool) -> _Phase:
        def descend(q: np.ndarray) -> np.ndarray:
            plan = self._refresh_plan()
            if not from_here:
                return plan.descend
            return self._line_from_here(q, plan.pose.grasp, plan.pose.rotation)

        return _Phase("descend", descend, _open)

    def _line_from_here(
        self,
        q: np.ndarray,
        goal: np.ndarray,
        rotation: np.ndarray,
        step: float = DESCEND_STEP,
        *,
        turn: bool = False,
    ) -> np.ndarray:
        """A straight line from the site at `q` to `goal` that starts at `step` m per tick and stops
        smoothly (`ease_out`): a re-planned move of an arm that was already moving. `turn`: the hand
        turns from its rotation now to `rotation` along the way (at most TURN_STEP rad per tick)."""
        site, now = self.ik.site_pose(q)
        ticks = max(4, math.ceil(3 * float(np.linalg.norm(goal - site)) / step))
        if turn:
            ticks = max(ticks, math.ceil(3 * _rotation_error(now, rotation) / TURN_STEP))
        return plan_cartesian_path(
            self.ik, q, [site, goal], rotation, [ticks], profile=ease_out, turn_from=now if turn else None
        )

    def _pause_phase(self, ticks: int) -> _Phase:
        """The arm held where it is for `ticks` ticks, the hand open."""
        return _Phase("pause", lambda q: np.repeat(q[None, :], ticks, axis=0), _open)

    def _close_phase(self) -> _Phase:
        full = round(0.8 * CONTROL_HZ)

        def hold_while_closing(q: np.ndarray) -> np.ndarray:
            ticks = max(2, round(full * (1.0 - closure(self._hand_from))))
            return np.repeat(q[None, :], ticks, axis=0)

        def closing(tick: int, ticks: int) -> np.ndarray:
            s = (tick + 1) / ticks
            return self._hand_from + s * (CLOSED_HAND - self._hand_from)

        return _Phase("close", hold_while_closing, closing)

    def _lift_phase(self, *, from_here: bool) -> _Phase:
        def lift(q: np.ndarray) -> np.ndarray:
            plan = self.plan
            if plan is not None and not from_here:
                return plan.lift
            site, rotation = self.ik.site_pose(q)
            top = (plan.pose.grasp[2] if plan is not None else site[2]) + self.lift
            rise = max(0.02, top - site[2])
            ticks = max(4, round(1.5 * CONTROL_HZ * rise / self.lift))
            return plan_cartesian_path(self.ik, q, [site, site + rise * UP], rotation, [ticks])

        return _Phase("lift", lift, _closed)

    def _hold_phase(self) -> _Phase:
        ticks = max(round(2.2 * CONTROL_HZ), math.ceil(self.robot.hold_seconds * CONTROL_HZ) + 4)
        return _Phase("hold", lambda q: np.repeat(q[None, :], ticks, axis=0), _closed)

    def _reopen_phase(self) -> _Phase:
        # Opened at once, not ramped: a ramp re-planned every tick (a policy keeps the hand closed)
        # would label each tick "1/8 open", so the labels would never show an open hand.
        ticks = round(0.4 * CONTROL_HZ)
        return _Phase("reopen", lambda q: np.repeat(q[None, :], ticks, axis=0), _open)

    def _back_off_phase(self) -> _Phase:
        def back_off(q: np.ndarray) -> np.ndarray:
            site, rotation = self.ik.site_pose(q)
            away = site - BACK_OFF * rotation[:, 2] + 0.05 * UP  # site z is the approach direction
            away[2] = max(away[2], site[2] + 0.05)
            try:
                return plan_cartesian_path(self.ik, q, [site, away], rotation, [round(0.8 * CONTROL_HZ)])
            except HardwareError:  # no straight way out: rise in joint space toward home
                return self._joint_move(q, np.array(ARM_HOME), 1.5)

        return _Phase("back_off", back_off, _open)


def _open(tick: int, ticks: int) -> np.ndarray:
    return OPEN_HAND.copy()


def _closed(tick: int, ticks: int) -> np.ndarray:
    return CLOSED_HAND.copy()


__all__ = ["CLOSED_HAND", "OPEN_HAND", "GraspExpert", "Tempo", "closure", "shared_ik"]
