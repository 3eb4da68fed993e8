"""One closed-loop attempt of a controller on the simulated robot, shared by `collect` and `eval`.

The loop is the paper's protocol scaled for sim: from home, the controller gets the
target's box in the head image, then acts at 20 Hz until the target has been lifted
and held (the sim's `grasp_success`) or the time budget is spent. Every action goes
through the safety layer (`SafeRobot`); a tick callback sees each observation and
the action actually executed after it, which is what a demonstration records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from dexagent.controller.cadence import Cadence, Pacer
from dexagent.controller.interfaces import Controller
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import Observation, SafeRobot, UnsafeActionError, hand_closed
from dexagent.hardware.sim.robot import SceneObject, SimRobot

# Why an attempt failed, as written into evaluation records.
TIMEOUT = "timeout"  # the budget ran out and the hand never closed
CLOSED_EMPTY = "closed without the target"  # the hand closed, the target never left the table
KNOCKED_OFF = "knocked off the table"
DROPPED = "dropped"
UNSAFE_ACTION = "unsafe action"
NOT_VISIBLE = "target not visible"
GAVE_UP = "controller gave up"

__all__ = ["AttemptOutcome", "choose_target", "instruction_for", "run_attempt"]

TickCallback = Callable[[Observation, np.ndarray], None]
ObserveCallback = Callable[[Observation], None]

OFF_TABLE = -0.05  # m: an object whose lowest point is this far below the table top fell off


@dataclass(frozen=True)
class AttemptOutcome:
    success: bool
    steps: int  # control ticks executed
    reason: str | None  # None on success, else one of the constants above
    # How the ticks kept time (stages observe, decide, act, record); the controller's own stage
    # latencies are not in it: a controller may outlive the attempt, its caller folds them in once.
    cadence: Cadence | None = field(default=None, compare=False)


def choose_target(
    objects: Sequence[SceneObject], visible: Sequence[bool], skill: str, scene_seed: int
) -> int:
    """The target's object index, drawn by the scene seed among visible objects the skill applies to.

    A skill for flat targets (push_then_grasp) takes only flat objects, any other (grasp) only
    objects that can be grasped directly. Returns -1 when no object qualifies.
    """
    wants_flat = CONTROLLED_SKILLS.get(skill).flat_target
    candidates = [o.index for o, seen in zip(objects, visible, strict=True) if seen and o.flat == wants_flat]
    if not candidates:
        return -1
    # A stream separate from the scene sampler's, so the choice does not shift the layout.
    rng = np.random.default_rng([scene_seed, 0x7A26E7])
    return candidates[int(rng.integers(len(candidates)))]


def instruction_for(scene_object: SceneObject, object_type: str) -> str:
    """The planner-style instruction for a target, e.g. "grasp the red apple"."""
    noun = object_type or scene_object.category
    return f"grasp the {scene_object.colour} {noun}".replace("_", " ")


def run_attempt(
    sim: SimRobot,
    robot: SafeRobot,
    controller: Controller,
    target: int,
    *,
    seconds: float,
    on_tick: TickCallback | None = None,
    on_observe: ObserveCallback | None = None,
    realtime: bool = False,
) -> AttemptOutcome:
    """Drive `controller` from the current pose until `target` is held or `seconds` of sim time pass.

    `robot` wraps `sim` with the safety layer. The caller homes the robot first. `on_observe`
    sees every observation while the sim is still in the state it shows; `on_tick` sees it
    again, with the action taken after it, once that action has run. `realtime` paces the
    ticks to the wall clock at the control rate, as on the robot, so a controller that infers
    in the background meets its real latency; the outcome carries the ticks' cadence report.
    """

    pacer = Pacer(robot.spec.control_hz, paced=realtime)
    cadence = pacer.cadence

    def observe() -> Observation:
        observation = robot.observe()
        if on_observe is not None:
            on_observe(observation)
        return observation

    def outcome(success: bool, steps: int, reason: str | None) -> AttemptOutcome:
        return AttemptOutcome(success, steps, reason, cadence)

    observation = observe()  # before the first tick: not part of the cadence
    box = sim.object_box(target)
    if box is None:
        return outcome(False, 0, NOT_VISIBLE)
    controller.reset(observation, box)
    ever_lifted = closed = False
    max_steps = round(seconds * robot.spec.control_hz)
    pacer.start()
    for step in range(1, max_steps + 1):
        pacer.wait()  # to this tick's period (no-op unless realtime)
        with cadence.stage("decide"):
            action = controller.act(observation)
        try:
            with cadence.stage("act"):
                robot.act(action)
        except UnsafeActionError:
            pacer.tick_done()
            return outcome(False, step, UNSAFE_ACTION)
        executed = robot.safety.hold_action  # what the safety layer let through this tick
        assert executed is not None  # set by the act above
        # What was commanded: the fingers may stop on an object.
        closed = closed or hand_closed(executed, robot.spec.arm_joints)
        if on_tick is not None:
            with cadence.stage("record"):
                on_tick(observation, executed)
        with cadence.stage("observe"):
            observation = observe()
        pacer.tick_done()
        if sim.grasp_success(target):
            return outcome(True, step, None)
        ever_lifted = ever_lifted or sim.is_lifted(target)
        if getattr(controller, "failed", False):  # scripted experts say when they have given up
            return outcome(False, step, DROPPED if ever_lifted else GAVE_UP)
    if ever_lifted:
        return outcome(False, max_steps, DROPPED)
    if sim.object_height(target) < OFF_TABLE:
        return outcome(False, max_steps, KNOCKED_OFF)
    return outcome(False, max_steps, CLOSED_EMPTY if closed else TIMEOUT)
