"""Stand-ins for what cannot exist in a unit test of skill semantics: the physical arm and the VLM.

The real MuJoCo robot, scripted controller and scene planner are exercised in the
end-to-end tests; here the arm is kinematic (it reaches every command at once) and
the planner answers from a script, so each test pins one behaviour of a leaf.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import py_trees
import pytest

from dexagent.hardware import ARM_DOF, Box, Observation, RobotSpec, SafeRobot
from dexagent.skills import SkillContext
from dexagent.skills.planning import AttemptRecord, Instruction, Plan, Verdict

ACTION_DIM = 13  # the sim robot's joints: 7 arm + 6 hand

SIZE = 32


def make_spec() -> RobotSpec:
    return RobotSpec(
        joint_names=tuple(f"j{i}" for i in range(ACTION_DIM)),
        lower=np.array([-3.0] * ARM_DOF + [0.0] * 6, np.float32),
        upper=np.array([3.0] * ARM_DOF + [1.0] * 6, np.float32),
        home=np.array([0.0] * ARM_DOF + [1.0] * 6, np.float32),
    )


class KinematicArm:
    """A robot whose joints reach each command in one tick; time advances 50 ms per act."""

    def __init__(self) -> None:
        self.spec = make_spec()
        self.state = self.spec.home.copy()
        self.t = 0.0
        self.actions: list[np.ndarray] = []
        segmentation = np.full((SIZE, SIZE), -1, np.int32)
        segmentation[8:16, 8:16] = 0  # object 0
        segmentation[20:28, 20:28] = 1  # object 1
        self.segmentation = segmentation

    def observe(self) -> Observation:
        image = np.zeros((SIZE, SIZE, 3), np.uint8)
        return Observation(image, image.copy(), self.state.copy(), self.t, self.segmentation.copy())

    def act(self, action: np.ndarray) -> None:
        self.actions.append(np.array(action))
        self.state = np.array(action, np.float32)
        self.t += 0.05

    def home(self) -> None:
        self.state = self.spec.home.copy()

    def close(self) -> None:
        pass

    def __enter__(self) -> KinematicArm:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@dataclass
class ScriptedPlanner:
    """Answers from a script; `gate` (when given) holds every call until the test sets it."""

    boxes: dict[str, Box] = field(default_factory=dict)
    verdicts: list[bool] = field(default_factory=list)
    plan: Sequence[Instruction] = ()
    complete: bool = True
    gate: threading.Event | None = None
    calls: list[str] = field(default_factory=list)

    def _wait(self, name: str) -> None:
        self.calls.append(name)
        if self.gate is not None:
            assert self.gate.wait(5.0), "test never released the planner"

    def propose(self, prompt: str, observation: Observation, history: Sequence[AttemptRecord]) -> Plan:
        self._wait("propose")
        return Plan(instructions=tuple(self.plan), reasoning=f"{len(history)} attempts so far")

    def ground(self, instruction: Instruction, observation: Observation) -> Box:
        self._wait("ground")
        if instruction.target not in self.boxes:
            raise LookupError(f"no {instruction.target} in the image")
        return self.boxes[instruction.target]

    def verify_grasp(self, instruction: Instruction, observation: Observation) -> Verdict:
        self._wait("verify_grasp")
        ok = self.verdicts.pop(0) if self.verdicts else False
        return Verdict(ok=ok, reasoning="held" if ok else "the hand is empty")

    def is_complete(self, prompt: str, first_observation: Observation, observation: Observation) -> Verdict:
        self._wait("is_complete")
        return Verdict(ok=self.complete, reasoning="table is clear" if self.complete else "a cup is left")


class ClosingController:
    """Closes the hand over `close_ticks` ticks and then holds; records its lifecycle."""

    def __init__(self, close_ticks: int = 4) -> None:
        self.close_ticks = close_ticks
        self.resets: list[Box] = []
        self.closed = 0
        self.ticks = 0

    def reset(self, observation: Observation, target_box: Box) -> None:
        self.resets.append(target_box)
        self.ticks = 0

    def act(self, observation: Observation) -> np.ndarray:
        self.ticks += 1
        action = observation.state.copy()
        action[:ARM_DOF] = 0.3
        action[ARM_DOF:] = max(0.0, 1.0 - self.ticks / self.close_ticks)
        return action

    def close(self) -> None:
        self.closed += 1


@dataclass
class FakeScene:
    """Ground truth for the kinematic arm: which objects count as held, lifted, in the bin."""

    success_after_ticks: dict[int, int] = field(default_factory=dict)
    arm: KinematicArm | None = None
    removed: list[int] = field(default_factory=list)
    bin_hits: bool = True

    def object_box(self, index: int) -> Box | None:
        return None

    def grasp_success(self, index: int) -> bool:
        assert self.arm is not None
        needed = self.success_after_ticks.get(index)
        return needed is not None and len(self.arm.actions) >= needed

    def is_lifted(self, index: int) -> bool:
        return self.grasp_success(index)

    def in_contact_with_hand(self, index: int) -> bool:
        return self.grasp_success(index)

    def in_bin(self, index: int) -> bool:
        return self.bin_hits

    def remove_object(self, index: int) -> None:
        self.removed.append(index)


class InlineExecutor(Executor):
    """Runs each call at once on the tick thread, so a test's tick count does not depend on scheduling.

    Tests about not blocking use `threaded=True` (a real thread pool) instead.
    """

    def submit(self, fn: Callable, /, *args: object, **kwargs: object) -> Future:  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


@pytest.fixture(autouse=True)
def clean_blackboard() -> Iterator[None]:
    py_trees.blackboard.Blackboard.clear()
    yield
    py_trees.blackboard.Blackboard.clear()


@pytest.fixture
def arm() -> KinematicArm:
    return KinematicArm()


def make_context(
    arm: KinematicArm,
    planner: ScriptedPlanner,
    controller: ClosingController,
    threaded: bool = False,
    **kwargs,
) -> SkillContext:
    """A context whose clock is the arm's time (sim-time budgets) and whose events are recorded."""
    events: list[tuple[str, dict]] = []
    context = SkillContext(
        executor=ThreadPoolExecutor(2) if threaded else InlineExecutor(),
        robot=SafeRobot(arm),
        planner=planner,
        controllers=lambda skill: controller,
        clock=lambda: arm.t,
        log=lambda name, fields: events.append((name, dict(fields))),
        **kwargs,
    )
    context.events = events  # type: ignore[attr-defined]
    return context


def tick_until_done(tree: py_trees.behaviour.Behaviour, context: SkillContext, max_ticks: int = 400) -> int:
    """Tick like the run loop does (holding when no leaf acted) until the root leaves RUNNING."""
    for tick in range(1, max_ticks + 1):
        context.acted_this_tick = False
        tree.tick_once()
        if not context.acted_this_tick:
            context.hold()
        if tree.status != py_trees.common.Status.RUNNING:
            return tick
    raise AssertionError(f"{tree.name} still RUNNING after {max_ticks} ticks")
