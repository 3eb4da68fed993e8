"""The leaf lifecycle with scripted skills: budgets, failure reasons, preemption, worker threads."""

from __future__ import annotations

import threading
import time

import py_trees
from py_trees.common import Status
from pydantic import BaseModel, ConfigDict, Field

from dexagent.skills import SkillRegistry
from dexagent.skills.base import SkillBehaviour, skill
from tests.skills.conftest import ClosingController, KinematicArm, ScriptedPlanner, make_context

LOCAL = SkillRegistry()


class CountParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticks: int = Field(3, ge=1)
    budget_s: float = 10.0


@skill("count", CountParams, registry=LOCAL)
class Count(SkillBehaviour):
    """Act (hold) for `ticks` ticks, then succeed."""

    def start(self) -> None:
        self.done = 0
        self.cancelled = 0
        self.finished: list[Status] = []

    def poll(self) -> Status:
        self.context.hold()
        self.done += 1
        assert isinstance(self.params, CountParams)
        return Status.SUCCESS if self.done >= self.params.ticks else Status.RUNNING

    def cancel(self) -> None:
        self.cancelled += 1

    def finish(self, status: Status) -> None:
        self.finished.append(status)


class WaitParams(BaseModel):
    budget_s: float | None = None  # no budget: the test waits on real threads


@skill("wait_for_gate", WaitParams, registry=LOCAL)
class WaitForGate(SkillBehaviour):
    """Wait for a worker-thread call that blocks until the test opens the gate."""

    gate = threading.Event()

    def start(self) -> None:
        self.future = self.submit(self.gate.wait, 5.0)

    def poll(self) -> Status:
        self.context.hold()
        return Status.SUCCESS if self.future.done() else Status.RUNNING


def test_registered_class_knows_its_info() -> None:
    assert Count.info is LOCAL.get("count")
    assert LOCAL.get("count").description == "Act (hold) for `ticks` ticks, then succeed."


def test_a_leaf_runs_then_succeeds_and_cleans_up(arm: KinematicArm) -> None:
    context = make_context(arm, ScriptedPlanner(), ClosingController())
    leaf = LOCAL.get("count").build("count", {"ticks": 3}, context)
    statuses = []
    for _ in range(3):
        leaf.tick_once()
        statuses.append(leaf.status)
    assert statuses == [Status.RUNNING, Status.RUNNING, Status.SUCCESS]
    assert isinstance(leaf, Count) and leaf.finished == [Status.SUCCESS] and leaf.cancelled == 0
    names = [name for name, _ in context.events]  # type: ignore[attr-defined]
    assert names == ["skill_start", "skill_end"]


def test_a_leaf_over_budget_fails_with_a_timeout_reason(arm: KinematicArm) -> None:
    context = make_context(arm, ScriptedPlanner(), ClosingController())
    leaf = LOCAL.get("count").build("slow", {"ticks": 100, "budget_s": 0.5}, context)
    ticks = 0
    while leaf.status != Status.FAILURE:
        leaf.tick_once()
        ticks += 1
    assert ticks == 11  # 0.05 s of sim time per tick: 10 ticks of work fit in 0.5 s, the 11th is over
    reason = py_trees.blackboard.Blackboard.get("/failure_reason")
    assert reason == "count: timeout after 0.5 s"
    assert leaf.feedback_message == reason


def test_a_bad_reference_fails_the_leaf_with_the_parameter_named(arm: KinematicArm) -> None:
    context = make_context(arm, ScriptedPlanner(), ClosingController())
    leaf = LOCAL.get("count").build("count", {"ticks": "{n}"}, context)
    leaf.tick_once()
    assert leaf.status == Status.FAILURE
    assert py_trees.blackboard.Blackboard.get("/failure_reason") == (
        "count: parameter 'ticks': blackboard key '/n' (from {n}) is not set"
    )
    py_trees.blackboard.Blackboard.set("/n", 1)
    leaf.tick_once()  # the reference is resolved again on every start
    assert leaf.status == Status.SUCCESS


def test_a_preempted_leaf_is_cancelled(arm: KinematicArm) -> None:
    """A higher-priority branch of a reactive selector becomes true: the running leaf is cancelled."""
    context = make_context(arm, ScriptedPlanner(), ClosingController())
    guard = py_trees.behaviours.StatusQueue(
        name="stop?", queue=[Status.FAILURE, Status.FAILURE, Status.SUCCESS], eventually=Status.SUCCESS
    )
    leaf = LOCAL.get("count").build("count", {"ticks": 50}, context)
    root = py_trees.composites.Selector("root", memory=False, children=[guard, leaf])
    for _ in range(3):
        root.tick_once()
    assert root.status == Status.SUCCESS
    assert leaf.status == Status.INVALID
    assert isinstance(leaf, Count) and leaf.cancelled == 1 and leaf.finished == [Status.INVALID]
    names = [name for name, _ in context.events]  # type: ignore[attr-defined]
    assert names == ["skill_start", "skill_preempted"]


def test_slow_work_runs_off_the_tick_thread(arm: KinematicArm) -> None:
    context = make_context(arm, ScriptedPlanner(), ClosingController(), threaded=True)
    WaitForGate.gate.clear()
    leaf = LOCAL.get("wait_for_gate").build("wait", {}, context)
    for _ in range(5):
        leaf.tick_once()
        # Had update() waited for the call, the gate would have timed out and the leaf succeeded.
        assert leaf.status == Status.RUNNING
        assert not leaf.future.done()  # type: ignore[attr-defined]
    WaitForGate.gate.set()
    deadline = time.perf_counter() + 5.0
    while leaf.status == Status.RUNNING and time.perf_counter() < deadline:
        time.sleep(0.001)
        leaf.tick_once()
    assert leaf.status == Status.SUCCESS
    context.shutdown()


def test_skill_workers_are_daemon_threads_that_run_at_most_two_calls_at_once() -> None:
    """A hung call never keeps the process alive, and a burst of calls waits its turn."""
    import threading
    import time

    from dexagent.skills.workers import DaemonExecutor

    executor = DaemonExecutor(max_workers=2)
    running, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def call(index: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        return index

    calls = [executor.submit(call, index) for index in range(5)]
    time.sleep(0.2)
    assert peak[0] == 2 and all(
        thread.daemon for thread in threading.enumerate() if thread.name.startswith("skill")
    )
    release.set()
    assert [future.result(timeout=5) for future in calls] == [0, 1, 2, 3, 4]
    executor.shutdown()
