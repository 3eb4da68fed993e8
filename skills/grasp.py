"""`grasp(target)`, `push_then_grasp(target)`: ground the target, run the controller closed-loop, decide.

Every controller-driven skill registered in `controller/skill_spec.py` is a skill (declared in
`skills/bundled.py`, with the description and default budget its spec gives) whose leaf is
built here: registering a spec is all it takes for trees, `dexagent skills` and the planner
to know it.

One attempt is three phases, none of which blocks a tick:
grounding (planner.ground on a worker thread) -> control (controller.act -> robot.act
every tick) -> decided. Success comes from the simulator's ground truth when the
context says so, otherwise from the planner's verifier, asked whenever the hand has
closed and the arm has come to rest (on a robot always the verifier).
"""

from __future__ import annotations

import functools
from collections import deque
from concurrent.futures import Future

import numpy as np
from py_trees.common import Status

from dexagent.controller.interfaces import Controller
from dexagent.controller.skill_spec import DEFAULT_SKILL
from dexagent.hardware import Box, Observation, object_under_box
from dexagent.skills import blackboard_keys as keys
from dexagent.skills.base import SkillBehaviour
from dexagent.skills.bundled import ATTEMPT_WRITES, GraspParams, camel_case
from dexagent.skills.context import ControllerStarts
from dexagent.skills.params import parse_ref
from dexagent.skills.planning import AttemptRecord, Instruction, Verdict
from dexagent.skills.registry import SkillInfo


class _StartSuperseded(RuntimeError):
    """A later attempt asked for the controller while this preempted attempt's start waited."""


class _AttemptBase(SkillBehaviour):
    """Shared by grasp and push_then_grasp; the controller comes from `context.controllers(skill)`."""

    WRITES = ATTEMPT_WRITES
    # The arm counts as at rest when no joint moved more than this (rad) over the rest window.
    REST_RAD = 0.01
    REST_WINDOW_S = 0.5
    REHOLD_S = 2.0  # the sim's default hold time, for objects whose success flag latched earlier

    def start(self) -> None:
        params = self.params
        assert isinstance(params, GraspParams)
        skill_verb = self.info.name.replace("_", " ")
        self.instruction = Instruction(
            skill=self.info.name,
            target=params.target,
            text=f"{skill_verb} {params.target}",
        )
        planned = self._planned_instruction()
        self.skip_reason = ""
        if planned is not None and planned.skill == self.info.name:
            self.instruction = planned  # the planner's own wording helps a VLM ground the target
        elif planned is not None and self.info.name == DEFAULT_SKILL:
            # The planner said a direct grasp will not work (a flat object): leave it to the next branch.
            self.skip_reason = f"the planner chose {planned.skill} for {planned.target!r}"
        self.controller: Controller | None = None
        self.object_index: int | None = None
        self.verdict_future: Future[Verdict] | None = None
        self.last_verify_at = -np.inf
        self.recent_arm: deque[np.ndarray] = deque(
            maxlen=max(2, round(self.REST_WINDOW_S / self.context.tick_period))
        )
        self.write(keys.TARGET, params.target)
        self.write(keys.HELD_OBJECT, None)
        self.write(keys.HELD_INDEX, None)
        observation = self.context.observation()
        self.ground_observation = observation
        self.ground_future: Future[Box] | None = None
        self.start_future: Future[Controller] | None = None
        if not self.skip_reason:
            self.ground_future = self.submit(self.context.planner.ground, self.instruction, observation)

    def _planned_instruction(self) -> Instruction | None:
        """The planner's Instruction when the target parameter references one on the blackboard."""
        ref = parse_ref(self.raw_params.get("target"))
        if ref is None:
            return None
        value = self.read(ref.key)
        return value if isinstance(value, Instruction) else None

    def poll(self) -> Status:
        if self.skip_reason:
            return self.fail(self.skip_reason)  # not an attempt: the history stays as it was
        if self.ground_future is not None:
            return self._poll_grounding()
        if self.start_future is not None:
            self.context.hold()
            return self._poll_controller_start()
        assert self.controller is not None
        observation = self.context.observation()
        try:
            action = self.controller.act(observation)
        except (ValueError, RuntimeError) as error:  # e.g. an unreachable pose: this attempt is over
            self.context.hold()
            return self._record(False, f"controller error: {error}")
        self.context.act(action)
        budget = self.params_grasp.budget_s
        self.feedback_message = f"controlling {self.context.clock() - self.started_at:.1f}/{budget:g} s"
        status = self._poll_outcome(observation)
        if status == Status.RUNNING and getattr(self.controller, "failed", False):
            # Controllers that know they gave up (the scripted expert) end the attempt early.
            why = getattr(self.controller, "failure_reason", None) or "no reason given"
            return self._record(False, f"controller gave up: {why}")
        return status

    def _poll_grounding(self) -> Status:
        future = self.ground_future
        assert future is not None
        self.feedback_message = f"grounding {self.instruction.target!r}"
        # Hold still while the planner looks: sim time keeps flowing at the control rate.
        self.context.hold()
        if not future.done():
            return Status.RUNNING
        self.ground_future = None
        try:
            box = future.result()
        except Exception as error:  # the planner is an outer boundary: network, model, unknown target
            return self._record(False, f"planner could not ground {self.instruction.target!r}: {error}")
        self.object_index = object_under_box(self.ground_observation.head_segmentation, box)
        if self.context.success_check == "ground_truth" and self.object_index is None:
            return self._record(
                False, f"no object in the grounded box {box.as_tuple()} for {self.instruction.target!r}"
            )
        self.context.log(
            "grounded",
            {
                "target": self.instruction.target,
                "box": list(box.as_tuple()),
                "object_index": self.object_index,
            },
        )
        scene = self.context.scene
        self.succeeded_before = bool(
            scene is not None and self.object_index is not None and scene.grasp_success(self.object_index)
        )
        self.lifted_since: float | None = None
        # Starting a controller can be slow (loading a checkpoint, a first mask from SAM, IK plans):
        # it runs on a worker while the arm holds, like grounding.
        starts = self.context.controller_starts.setdefault(self.info.name, ControllerStarts())
        starts.requested += 1
        self.start_number = starts.requested
        observation = self.context.observation()
        self.start_future = self.submit(self._start_controller, observation, box, self.start_number)
        return self._poll_controller_start()

    def _start_controller(self, observation: Observation, box: Box, start_number: int) -> Controller:
        controller = self.context.controllers(self.info.name)
        starts = self.context.controller_starts[self.info.name]
        with starts.lock:  # never beside another attempt's reset of the same controller
            if starts.requested != start_number:
                raise _StartSuperseded("a later attempt started the controller")
            controller.reset(observation, box)
        return controller

    def _close_if_not_taken(self, start_number: int, future: Future[Controller]) -> None:
        """Close the controller a preempted attempt started late, unless a later attempt asked for it
        meanwhile (it is the same controller: closing it would stop that attempt's)."""
        if future.cancelled() or future.exception() is not None:
            return
        starts = self.context.controller_starts[self.info.name]
        with starts.lock:
            if starts.requested == start_number:
                future.result().close()

    def _poll_controller_start(self) -> Status:
        future = self.start_future
        assert future is not None
        self.feedback_message = "starting the controller"
        if not future.done():
            return Status.RUNNING
        self.start_future = None
        try:
            self.controller = future.result()
        except (ValueError, LookupError, RuntimeError) as error:  # no controller, or it rejects the target
            return self._record(False, f"controller could not start: {error}")
        return Status.RUNNING

    def _poll_outcome(self, observation: Observation) -> Status:
        if self.context.success_check == "ground_truth":
            scene = self.context.scene
            assert scene is not None and self.object_index is not None
            if not self.succeeded_before:
                if scene.grasp_success(self.object_index):
                    return self._record(True, "lifted and held (ground truth)")
                return Status.RUNNING
            # The sim's success flag latches, so an object grasped before (and dropped beside the bin)
            # needs its lift timed here: lifted and in the hand for the hold time.
            held_now = scene.is_lifted(self.object_index) and scene.in_contact_with_hand(self.object_index)
            now = self.context.clock()
            if not held_now:
                self.lifted_since = None
            elif self.lifted_since is None:
                self.lifted_since = now
            if self.lifted_since is not None and now - self.lifted_since >= self.REHOLD_S:
                return self._record(True, "lifted and held again (ground truth)")
            return Status.RUNNING
        return self._poll_verifier(observation)

    def _poll_verifier(self, observation: Observation) -> Status:
        future = self.verdict_future
        if future is not None:
            if not future.done():
                return Status.RUNNING
            self.verdict_future = None
            try:
                verdict = future.result()
            except Exception as error:  # the verifier is a network call: report it, keep trying
                self.context.log("verify_error", {"target": self.instruction.target, "error": str(error)})
            else:
                self.context.log("verified", {"target": self.instruction.target, **verdict.model_dump()})
                if verdict.ok:
                    return self._record(True, verdict.reasoning or "verified")
        arm = self.context.robot.spec.arm_joints
        self.recent_arm.append(np.asarray(observation.state[:arm], dtype=np.float32))
        now = self.context.clock()
        if self._settled(observation) and now - self.last_verify_at >= self.params_grasp.verify_interval_s:
            self.last_verify_at = now
            self.verdict_future = self.submit(
                self.context.planner.verify_grasp, self.instruction, observation
            )
        return Status.RUNNING

    @property
    def params_grasp(self) -> GraspParams:
        assert isinstance(self.params, GraspParams)
        return self.params

    def _settled(self, observation: Observation) -> bool:
        """The hand is closed and the arm has been still for the rest window: time to ask the verifier."""
        if not self.hand_is_closed(observation):
            return False
        if len(self.recent_arm) < (self.recent_arm.maxlen or 0):
            return False
        window = np.stack(self.recent_arm)
        return bool(np.max(window.max(axis=0) - window.min(axis=0)) < self.REST_RAD)

    def _record(self, success: bool, reason: str) -> Status:
        history = list(self.read(keys.HISTORY) or [])
        history.append(AttemptRecord(instruction=self.instruction, success=success, reason=reason))
        self.write(keys.HISTORY, history)
        if not success:
            return self.fail(reason)
        self.write(keys.HELD_OBJECT, self.instruction.target)
        self.write(keys.HELD_INDEX, self.object_index)
        self.reason = reason
        return Status.SUCCESS

    def on_timeout(self, budget_s: float) -> Status:
        return self._record(False, f"timeout after {budget_s:.1f} s")

    def cancel(self) -> None:
        # Preempted mid-attempt: stop commanding and keep the arm where it is.
        self.context.hold()

    def finish(self, status: Status) -> None:
        if self.controller is not None:
            self.controller.close()
            self.controller = None
        start = self.start_future
        if start is not None:
            # Preempted while the controller was starting: close it once started.
            start.add_done_callback(functools.partial(self._close_if_not_taken, self.start_number))
            self.start_future = None
        self.ground_future = None
        self.verdict_future = None


@functools.cache
def attempt_class(info: SkillInfo) -> type[_AttemptBase]:
    """The leaf class of the controller-driven skill `info` (one per skill: a leaf knows its skill)."""
    namespace = {"__doc__": info.description, "__module__": __name__, "info": info}
    return type(camel_case(info.name), (_AttemptBase,), namespace)
