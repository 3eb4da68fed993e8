"""`reset()`: put a held object in the bin, then go home with the hand open, one tick at a time.

The paper resets after every grasp. Here the reset is a short list of joint-space
waypoints (over the bin -> open the hand -> home), each reached with a
minimum-jerk profile whose peak joint speed is `speed_rad_s` (a jerky carry shakes
the held object loose); the safety layer still checks every command. In sim the
object falls into the bin; the scene's `remove_object` takes away only objects that
did land there, so a missed drop stays visible to the next plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from py_trees.common import Status

from dexagent.skills import blackboard_keys as keys
from dexagent.skills.base import SkillBehaviour
from dexagent.skills.bundled import RESET, ResetParams

HAND_OPEN = 1.0
HAND_SPEED = 2.0  # hand command units per second: open in ~1 s with the smooth profile
MIN_JERK_PEAK = 1.875  # peak / average speed of a minimum-jerk move


def _min_jerk(phase: float) -> float:
    """0 -> 1 with zero velocity and acceleration at both ends."""
    return float(10 * phase**3 - 15 * phase**4 + 6 * phase**5)


@dataclass
class Waypoint:
    """Joint targets float32[J] to reach, and how long to stay once reached (s)."""

    name: str
    target: np.ndarray
    dwell_s: float


class Reset(SkillBehaviour):
    """The `reset` leaf: over the bin, open the hand, home; one minimum-jerk move per waypoint."""

    info = RESET
    READS = RESET.reads
    WRITES = RESET.writes
    TOLERANCE_RAD = 0.03  # measured arm joints this close to the target count as arrived

    def start(self) -> None:
        params = self.params
        assert isinstance(params, ResetParams)
        observation = self.context.observation()
        spec = self.context.robot.spec
        arm = self.arm = spec.arm_joints  # the arm's joints first, then the hand's
        home = spec.home.copy()
        home[arm:] = HAND_OPEN
        held = self.read(keys.HELD_OBJECT)
        self.dropping = (
            params.drop
            and self.context.drop_pose is not None
            and (held is not None or self.hand_is_closed(observation))
        )
        self.held = held
        self.held_index = self.read(keys.HELD_INDEX)
        self.waypoints: list[Waypoint] = []
        self.command = self._start_command(observation.state)
        if self.dropping:
            assert self.context.drop_pose is not None
            over_bin = np.asarray(self.context.drop_pose, dtype=np.float32).copy()
            over_bin[arm:] = self.command[arm:]  # keep the grip while carrying
            opened = over_bin.copy()
            opened[arm:] = HAND_OPEN
            # The dwell after opening lets the object fall and settle before we look at where it went.
            self.waypoints += [Waypoint("over_bin", over_bin, 0.2), Waypoint("open_hand", opened, 0.8)]
        self.waypoints.append(Waypoint("home", home, 0.2))
        self.index = 0
        self.arrived_at: float | None = None
        self.segment_tick: int | None = None
        self.segment_ticks = 1
        self.segment_start = self.command.copy()
        self.context.log("reset_plan", {"dropping": self.dropping, "held": held, "waypoints": self._names()})

    def _names(self) -> list[str]:
        return [w.name for w in self.waypoints]

    def _start_command(self, state: np.ndarray) -> np.ndarray:
        # Continue from the last command that was let through, so the first step is continuous.
        hold = self.context.robot.safety.hold_action
        return (hold if hold is not None else np.asarray(state, dtype=np.float32)).copy()

    def _begin_segment(self, target: np.ndarray) -> None:
        """Time the move to `target` so no joint's peak speed exceeds the limits (minimum-jerk profile)."""
        params = self.params
        assert isinstance(params, ResetParams)
        delta = target - self.command
        per_tick = np.full(delta.shape, params.speed_rad_s * self.context.tick_period)
        per_tick[self.arm :] = HAND_SPEED * self.context.tick_period
        # A minimum-jerk move peaks at 1.875x its average speed.
        self.segment_ticks = max(1, int(np.ceil(MIN_JERK_PEAK * np.max(np.abs(delta) / per_tick))))
        self.segment_start = self.command.copy()
        self.segment_tick = 0

    def poll(self) -> Status:
        waypoint = self.waypoints[self.index]
        self.feedback_message = f"{waypoint.name} ({self.index + 1}/{len(self.waypoints)})"
        if self.segment_tick is None:
            self._begin_segment(waypoint.target)
        assert self.segment_tick is not None
        if self.segment_tick < self.segment_ticks:
            # Smooth starts and stops: a held object is not shaken loose (or through the fingers) by a jerk.
            self.segment_tick += 1
            s = _min_jerk(self.segment_tick / self.segment_ticks)
            self.command = (self.segment_start + s * (waypoint.target - self.segment_start)).astype(
                np.float32
            )
        self.context.act(self.command)
        state = self.context.observation().state
        commanded = self.segment_tick >= self.segment_ticks
        arm_arrived = np.max(np.abs(state[: self.arm] - waypoint.target[: self.arm])) < self.TOLERANCE_RAD
        if not (commanded and arm_arrived):
            return Status.RUNNING
        now = self.context.clock()
        if self.arrived_at is None:
            self.arrived_at = now
        if now - self.arrived_at < waypoint.dwell_s - 1e-9:
            return Status.RUNNING
        self.arrived_at = None
        self.segment_tick = None
        if waypoint.name == "open_hand":
            self._after_drop()
        self.index += 1
        return Status.SUCCESS if self.index == len(self.waypoints) else Status.RUNNING

    def _after_drop(self) -> None:
        """The hand is open over the bin: record what landed there and clear the scene of it."""
        landed: bool | None = None
        scene = self.context.scene
        index = self.held_index
        if scene is not None and index is not None:
            landed = bool(scene.in_bin(index))
            if landed:
                scene.remove_object(index)
        if self.held is not None and landed is not False:
            self.write(keys.GRASPED, [*(self.read(keys.GRASPED) or []), self.held])
        self.write(keys.HELD_OBJECT, None)
        self.write(keys.HELD_INDEX, None)
        self.context.log("dropped", {"object": self.held, "object_index": index, "in_bin": landed})

    def on_timeout(self, budget_s: float) -> Status:
        name = self.waypoints[self.index].name
        return self.fail(f"timeout after {budget_s:.1f} s while moving to {name!r}")

    def cancel(self) -> None:
        self.context.hold()
