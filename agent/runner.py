"""The run loop: plan, compile the tree, tick it at a fixed control rate until the prompt is done.

Every tick: observe once (shared by all leaves), tick the tree, hold position if no
leaf commanded the robot (sim time keeps flowing while the planner thinks), record
the cadence, and sleep to the next period when running in real time. Ctrl-C
preempts the tree (running skills stop their controllers and hold), opens the hand,
and still returns a result so the caller writes the log and the summary.

Each run keeps its blackboard keys in a namespace of its own ("/run_7/target"), so runs in
one process never see each other's keys; they are taken away when the run returns.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import py_trees
from py_trees.common import Status

from dexagent.agent.compile import CompiledRun, compile_run
from dexagent.agent.episode_log import EpisodeLog
from dexagent.agent.planner.errors import (
    PlannerConfigError,
    PlannerUnreachableError,
    PromptNotUnderstoodError,
)
from dexagent.agent.timed_planner import TimedPlanner
from dexagent.controller.cadence import Cadence, Pacer
from dexagent.controller.interfaces import Controller
from dexagent.hardware import HardwareError, Observation, Robot, SafeRobot
from dexagent.hardware.errors import DriverError
from dexagent.skills import SkillContext
from dexagent.skills import blackboard_keys as keys
from dexagent.skills.context import SceneTruth
from dexagent.skills.planning import AttemptRecord, Plan, Planner
from dexagent.trees.composites import Recovery

_STOP_POLL_S = 0.05  # how often a wait for the planner looks for a stop request
_RUN_NUMBERS = itertools.count(1)  # each run's blackboard namespace is /run_<n>, unique in the process


@dataclass(frozen=True)
class RunConfig:
    prompt: str
    tree: str | Path | None = None  # a bundled tree name or a file; None: chosen from the first plan
    max_seconds: float = 600.0  # sim (control-clock) seconds before the run gives up
    control_hz: float = 20.0
    realtime: bool = True  # sleep to keep one tick per period of wall time, like the real robot
    success_check: str = "ground_truth"  # "ground_truth" (sim) or "verifier"
    controller: str = ""  # what acts (scripted, default, a checkpoint folder): for the summary and log


@dataclass
class RunState:
    """What the live view shows after each tick."""

    root: py_trees.behaviour.Behaviour | None
    tick: int
    sim_time: float
    cadence: Cadence
    tree_name: str = ""
    instruction: str = ""
    target: str = ""
    failure_reason: str = ""
    grasped: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    prompt: str
    completed: bool
    reason: str
    interrupted: bool
    tree_name: str
    ticks: int
    sim_seconds: float
    wall_seconds: float
    grasped: list[str]  # targets with a successful grasp, in order, each once
    put_away: list[str]  # released over the bin (and, in sim, seen to land in it)
    attempts: int
    successful_attempts: int
    recoveries: int
    planner: dict[str, dict[str, float]]
    cadence: dict[str, Any]
    controller: str = ""
    realtime: bool = True  # paced to wall-clock control_hz; False: ticks ran as fast as they could


class _TimedRobot:
    """Forwards to a robot and adds the time spent in `act` (physics, or the driver) to `act_seconds`."""

    def __init__(self, robot: Robot) -> None:
        self.robot = robot
        self.spec = robot.spec
        self.act_seconds = 0.0

    def observe(self) -> Observation:
        return self.robot.observe()

    def act(self, action: np.ndarray) -> None:
        start = time.perf_counter()
        try:
            self.robot.act(action)
        finally:
            self.act_seconds += time.perf_counter() - start

    def home(self) -> None:
        self.robot.home()

    def close(self) -> None:
        self.robot.close()

    def __enter__(self) -> _TimedRobot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AgentRun:
    """One run of a prompt on a robot. Build it, call `run()` once."""

    def __init__(
        self,
        robot: Robot,
        planner: Planner,
        controllers: Callable[[str], Controller],
        config: RunConfig,
        *,
        scene: SceneTruth | None = None,
        drop_pose: np.ndarray | None = None,
        clock: Callable[[], float] | None = None,
        log: EpisodeLog | None = None,
        on_tick: Callable[[RunState], None] | None = None,
        on_frame: Callable[[Observation], None] | None = None,
        executor: futures.Executor | None = None,
    ) -> None:
        """`controllers(skill)` is the run's controller for a skill (built once, reset every attempt);
        `executor` runs the skills' slow calls (default: daemon worker threads)."""
        self.config = config
        self.log = log or EpisodeLog(None)
        self.timed_robot = _TimedRobot(robot)
        self.robot = SafeRobot(self.timed_robot)
        self.planner = TimedPlanner(planner, self.log.write)
        self.period = 1.0 / config.control_hz
        self.ticks = 0
        self.clock = clock or (lambda: self.ticks * self.period)
        self.pacer = Pacer(config.control_hz, paced=config.realtime)
        self.cadence = self.pacer.cadence
        self.on_tick = on_tick
        self.on_frame = on_frame
        self._observation: Observation | None = None
        self._observed_tick = -1
        self.recoveries = 0
        self._recovering: set[int] = set()
        # Skills start controllers on worker threads; their figures join the report at the end.
        self._controllers: list[Controller] = []
        self._lock = threading.Lock()
        self.context = SkillContext(
            robot=self.robot,
            planner=self.planner,
            controllers=self._controller_for(controllers),
            clock=self.clock,
            tick_period=self.period,
            success_check="ground_truth" if config.success_check == "ground_truth" else "verifier",
            scene=scene,
            drop_pose=drop_pose,
            log=self.log.write,
            observe=self._observe,
            namespace=f"/run_{next(_RUN_NUMBERS)}",
            **({"executor": executor} if executor is not None else {}),
        )
        self.compiled: CompiledRun | None = None
        # Set by request_stop (e.g. from a Ctrl-C handler); the loop checks it between ticks, so a
        # stop never lands in the middle of a tick's bookkeeping.
        self._stop_requested = ""
        self._in_loop = False  # planning or ticking: where an immediate stop (KeyboardInterrupt) is handled

    def _controller_for(self, controllers: Callable[[str], Controller]) -> Callable[[str], Controller]:
        """`controllers`, remembering each controller handed out: its own latencies and starved ticks
        join the cadence report once, when the run ends (one controller serves many attempts)."""

        def get(skill: str) -> Controller:
            controller = controllers(skill)
            with self._lock:
                if all(controller is not seen for seen in self._controllers):
                    self._controllers.append(controller)
            return controller

        return get

    @property
    def stop_was_requested(self) -> bool:
        return bool(self._stop_requested)

    @property
    def in_loop(self) -> bool:
        """Whether the run is planning or ticking, where a KeyboardInterrupt stops it safely at once
        (outside, e.g. while it writes its result, one would escape as a traceback)."""
        return self._in_loop

    def request_stop(self, reason: str = "stopped by the operator (Ctrl-C)") -> None:
        """Ask the loop to stop safely before its next tick (safe to call from a signal handler)."""
        self._stop_requested = reason

    def _observe(self) -> Observation:
        """One observation per tick, shared by every leaf (rendering is the costliest stage in sim)."""
        if self._observation is None or self._observed_tick != self.ticks:
            self._observation = self.robot.observe()
            self._observed_tick = self.ticks
        return self._observation

    def run(self) -> RunResult:
        """Plan, compile and tick until done, out of time or interrupted; never leaves the arm moving."""
        try:
            return self._run()
        finally:
            self._release_blackboard()

    def _run(self) -> RunResult:
        started = time.perf_counter()
        self.log.write("run_start", {"prompt": self.config.prompt, "config": self.config.__dict__})
        try:
            self._in_loop = True
            completed, reason = self._plan_and_tick()
        except KeyboardInterrupt:
            self._stop_requested = self._stop_requested or "stopped by the operator (Ctrl-C)"
            completed, reason = False, self._stop_requested
            self._stop_safely()
        except HardwareError as error:
            # The safety layer or the robot refused (e.g. a NaN action): it already holds position.
            completed, reason = False, f"the robot stopped the run: {error}"
            self.log.write("robot_error", {"error": str(error)})
            self._stop_safely()
        except BaseException as error:
            # A bug: still leave the robot safe and the log complete, then let it surface.
            self.log.write("run_error", {"error": f"{type(error).__name__}: {error}"})
            self._stop_safely()
            raise
        finally:
            self._in_loop = False
            self.context.shutdown()
        interrupted = bool(self._stop_requested)
        result = self._result(completed, reason, interrupted, time.perf_counter() - started)
        self.log.write("run_end", result.__dict__)
        return result

    def _plan_and_tick(self) -> tuple[bool, str]:
        first = self._observe()
        # Off this thread, so a stop is honoured at once even while the planner hangs (a server
        # that never answers holds the call for its timeout times its retries).
        proposal = self.context.executor.submit(self.planner.propose, self.config.prompt, first, ())
        while not proposal.done():
            if self._stop_requested:
                self._stop_safely()
                return False, self._stop_requested
            futures.wait([proposal], timeout=_STOP_POLL_S)
        try:
            plan = proposal.result()
        except (PlannerUnreachableError, PlannerConfigError, PromptNotUnderstoodError):
            raise  # bad input or setup, not a run that failed: the caller exits 2
        except Exception as error:  # the planner is an outer boundary: its message is the reason
            return False, f"the planner could not plan {self.config.prompt!r}: {error}"
        self.log.write(
            "first_plan", {"instructions": [i.text for i in plan.instructions], **_plan_fields(plan)}
        )
        self.compiled = compile_run(self.config.prompt, plan, first, self.context, self.config.tree)
        self.log.write("tree", {"name": self.compiled.tree_name, "why": self.compiled.reason})
        root = self.compiled.root
        root.setup_with_descendants()
        self.pacer.start()
        while True:
            if self._stop_requested:
                self._stop_safely()
                return False, self._stop_requested
            if self.clock() >= self.config.max_seconds - 1e-9:
                root.stop(Status.INVALID)
                self._stop_safely()
                return False, f"time budget of {self.config.max_seconds:g} s spent before the prompt was done"
            before = self.clock()
            self._tick(root)
            if self.clock() < before - 1e-9:
                # MuJoCo resets a diverged simulation to its initial state; going on would replay the scene.
                root.stop(Status.INVALID)
                return False, (
                    f"the robot's clock went back from {before:.2f} s to {self.clock():.2f} s: "
                    "the simulation diverged and was reset"
                )
            if root.status == Status.SUCCESS:
                verdict = self._read(keys.COMPLETE)
                why = getattr(verdict, "reasoning", "") or f"the tree {self.compiled.tree_name!r} succeeded"
                return True, why
            if root.status == Status.FAILURE:
                reason = self._read(keys.FAILURE_REASON) or root.feedback_message or "the tree failed"
                self._stop_safely()
                return False, str(reason)
            self.pacer.wait()  # to the next period when real time; a late tick does not start a burst

    def _tick(self, root: py_trees.behaviour.Behaviour) -> None:
        self.log.tick, self.log.sim_time = self.ticks, self.clock()
        observation: Observation | None = None
        with self.cadence.stage("observe"):
            try:
                observation = self._observe()
            except DriverError as error:
                # A device fault (a camera gone, a silent hand): the robot already stopped. The
                # skill that asks for this tick's observation gets the same error and fails, so
                # the tree can recover; if the fault lasts, every attempt fails and the run ends.
                self.log.write("robot_fault", {"error": str(error)})
        self.context.acted_this_tick = False
        act_before = self.timed_robot.act_seconds
        tree_started = time.perf_counter()
        root.tick_once()
        if not self.context.acted_this_tick:
            try:
                self.context.hold()
            except DriverError as error:
                self.log.write("robot_fault", {"error": str(error)})
        act = self.timed_robot.act_seconds - act_before
        self.cadence.add("decide", time.perf_counter() - tree_started - act)
        self.cadence.add("act", act)
        self._count_recoveries(root)
        if self.on_frame is not None and observation is not None:
            with self.cadence.stage("video"):
                self.on_frame(observation)
        self.ticks += 1
        if self.on_tick is not None:
            with self.cadence.stage("view"):
                self.on_tick(self.state())
        self.pacer.tick_done()

    def _count_recoveries(self, root: py_trees.behaviour.Behaviour) -> None:
        """Count each time a Recovery node switches to its recovery branch."""
        for node in root.iterate():
            if not isinstance(node, Recovery):
                continue
            recovering = node.current_child is node.children[1] and node.status == Status.RUNNING
            if recovering and node.id.int not in self._recovering:
                self.recoveries += 1
                self.log.write("recovery", {"node": node.name})
            if recovering:
                self._recovering.add(node.id.int)
            else:
                self._recovering.discard(node.id.int)

    def _stop_safely(self) -> None:
        """Preempt whatever runs, then hold the arm where it is and open the hand over a few ticks."""
        try:
            if self.compiled is not None and self.compiled.root.status == Status.RUNNING:
                self.compiled.root.stop(Status.INVALID)
            hold = self.robot.safety.hold_action
            if hold is None:
                return
            target = hold.copy()
            hand = slice(self.robot.spec.arm_joints, None)
            target[hand] = 1.0
            steps = int(np.ceil(1.0 / float(np.min(self.robot.spec.max_step[hand])))) + 1
            for _ in range(steps):
                self.robot.act(target)
                self.ticks += 1
        except HardwareError as error:  # the robot refuses even this: report it, the caller ends the run
            self.log.write("stop_failed", {"error": str(error)})
            return
        self.log.write("stopped_safely", {"hand": "open", "ticks": steps})

    def _release_blackboard(self) -> None:
        """Take this run's keys and its nodes' blackboard clients off the process-wide blackboard."""
        board = py_trees.blackboard.Blackboard
        if self.compiled is not None:
            for node in self.compiled.root.iterate():
                for client in node.blackboards:
                    client.unregister(clear=True)
        prefix = self.context.namespace + "/"
        for key in [key for key in board.storage if key.startswith(prefix)]:
            board.unset(key)
        for key in [key for key in board.metadata if key.startswith(prefix)]:
            del board.metadata[key]

    def _read(self, key: str) -> Any:
        board = py_trees.blackboard.Blackboard
        name = self.context.key(key)
        return board.get(name) if board.exists(name) else None

    def state(self) -> RunState:
        instruction = self._read(keys.INSTRUCTION)
        target = self._read(keys.TARGET)
        return RunState(
            root=self.compiled.root if self.compiled else None,
            tick=self.ticks,
            sim_time=self.clock(),
            cadence=self.cadence,
            tree_name=self.compiled.tree_name if self.compiled else "",
            instruction=getattr(instruction, "text", "") or "",
            target=getattr(target, "target", target) or "",
            failure_reason=self._read(keys.FAILURE_REASON) or "",
            grasped=list(self._read(keys.GRASPED) or []),
        )

    def _result(self, completed: bool, reason: str, interrupted: bool, wall: float) -> RunResult:
        history: list[AttemptRecord] = list(self._read(keys.HISTORY) or [])
        with self._lock:
            for controller in self._controllers:
                self.cadence.add_controller(controller)
        return RunResult(
            prompt=self.config.prompt,
            completed=completed,
            reason=reason,
            interrupted=interrupted,
            tree_name=self.compiled.tree_name if self.compiled else str(self.config.tree or ""),
            ticks=self.ticks,
            sim_seconds=round(self.clock(), 3),
            wall_seconds=round(wall, 3),
            grasped=list(dict.fromkeys(a.instruction.target for a in history if a.success)),
            put_away=list(self._read(keys.GRASPED) or []),
            attempts=len(history),
            successful_attempts=sum(1 for attempt in history if attempt.success),
            recoveries=self.recoveries,
            planner=self.planner.stats(),
            cadence=self.cadence.as_dict(),
            controller=self.config.controller,
            realtime=self.config.realtime,
        )


def _plan_fields(plan: Plan) -> dict[str, Any]:
    return {"reasoning": plan.reasoning}
