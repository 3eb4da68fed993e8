"""What a skill needs from the outside world, injected by the agent: robot, planner, controllers, clock.

Skills never build these themselves, so the same leaf runs in sim, on the robot
and in tests with scripted stand-ins at the outermost boundary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from dexagent.controller.interfaces import Controller
from dexagent.hardware import Box, Observation, SafeRobot
from dexagent.skills.planning import Planner
from dexagent.skills.workers import DaemonExecutor

SuccessCheck = Literal["ground_truth", "verifier"]
EventLog = Callable[[str, Mapping[str, Any]], None]


@runtime_checkable
class SceneTruth(Protocol):
    """The simulator's ground truth, as skills use it (the sim robot implements it; a real robot has none)."""

    def object_box(self, index: int) -> Box | None:
        """Object `index`'s box in the head image, None when it is not visible."""

    def grasp_success(self, index: int) -> bool:
        """The paper's success metric: lifted above the threshold and held for the hold time."""

    def is_lifted(self, index: int) -> bool: ...

    def in_contact_with_hand(self, index: int) -> bool: ...

    def in_bin(self, index: int) -> bool:
        """Object `index` rests in the bin (what `reset` checks after opening the hand over it)."""

    def remove_object(self, index: int) -> None:
        """Take object `index` out of the scene (`reset` tidies away what landed in the bin)."""


def _no_log(event: str, fields: Mapping[str, Any]) -> None:
    """The default event log: drop events."""


@dataclass
class ControllerStarts:
    """The starts of one skill's controller in a run, which reuses it for every attempt.

    `requested` counts the attempts that asked for it (the tick thread only); a start runs under
    `lock`, so two attempts' resets never overlap, and an attempt preempted while its start was
    still on a worker neither resets nor closes the controller once a later attempt asked for it.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    requested: int = 0


@dataclass
class SkillContext:
    """Shared by every skill of one run. All fields are injected by the agent (or a test).

    robot: the robot behind the safety layer; skills only act through it.
    planner: grounds targets, verifies grasps, checks completion, proposes plans (may be slow).
    controllers: skill name ("grasp", "push_then_grasp") -> the run's controller for that skill,
        loaded once and the same every attempt; the skill resets it when an attempt starts and
        closes it (stops its background work) when the attempt ends.
    clock: seconds; sim time in simulation (so budgets mean the same at any speed), wall time on a robot.
    tick_period: seconds between ticks (1/20 at the paper's 20 Hz).
    success_check: "ground_truth" (sim only, needs `scene`) or "verifier" (the planner decides).
    scene: the simulator's ground truth, None on a real robot.
    drop_pose: float32[J] joint targets with the hand over the bin (hand values ignored), None: no bin.
    log: event callback (event name, fields) for the episode log.
    namespace: the run's blackboard namespace: "/run_3" keeps its keys apart ("/run_3/target") from
        every other run's in the process; "" puts them at the root ("/target").
    executor: runs slow calls (planner, verifier) off the tick thread; daemon threads by default, so a
        call that hangs is abandoned when the run ends instead of keeping the process alive.
    observe: where skills read the current observation; the run loop injects one that renders once
        per tick and shares it (rendering is the slowest part of a sim tick). None: `robot.observe`.
    """

    robot: SafeRobot
    planner: Planner
    controllers: Callable[[str], Controller]
    clock: Callable[[], float] = time.monotonic
    tick_period: float = 0.05
    success_check: SuccessCheck = "verifier"
    scene: SceneTruth | None = None
    drop_pose: np.ndarray | None = None
    log: EventLog = _no_log
    namespace: str = ""
    executor: Executor = field(default_factory=DaemonExecutor)
    observe: Callable[[], Observation] | None = None
    # Per skill: the starts of its controller (skills/grasp.py), one controller serving every attempt.
    controller_starts: dict[str, ControllerStarts] = field(default_factory=dict, init=False)
    # Set when a skill sent an action this tick; the run loop holds position on ticks nobody acted,
    # so sim time keeps flowing at the control rate while skills wait for the planner.
    acted_this_tick: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.success_check == "ground_truth" and self.scene is None:
            raise ValueError("success_check='ground_truth' needs the simulator's ground truth (scene=...)")
        if self.tick_period <= 0:
            raise ValueError(f"tick_period must be positive, got {self.tick_period}")
        if self.scene is not None and not isinstance(self.scene, SceneTruth):
            declared = [name for name, method in vars(SceneTruth).items() if callable(method)]
            declared = [name for name in declared if not name.startswith("_")]
            missing = [name for name in declared if not callable(getattr(self.scene, name, None))]
            raise TypeError(f"scene {type(self.scene).__name__} lacks SceneTruth's {', '.join(missing)}")

    def key(self, name: str) -> str:
        """The blackboard key for `name`: in this run's namespace, unless `name` is absolute ("/abs/key")."""
        return name if name.startswith("/") else f"{self.namespace}/{name}"

    def observation(self) -> Observation:
        """The current observation (shared within a tick when the run loop injects `observe`)."""
        return self.observe() if self.observe is not None else self.robot.observe()

    def act(self, action: np.ndarray) -> None:
        """Send float32[J] joint targets through the safety layer; marks this tick as acted."""
        self.robot.act(action)
        self.acted_this_tick = True

    def hold(self) -> None:
        """Hold the last safe command (what a preempted or stopped skill leaves the arm doing)."""
        hold = self.robot.safety.hold_action
        if hold is None:
            hold = self.observation().state
        self.act(hold)

    def shutdown(self) -> None:
        """Stop the worker threads (pending planner calls are abandoned)."""
        self.executor.shutdown(wait=False, cancel_futures=True)
