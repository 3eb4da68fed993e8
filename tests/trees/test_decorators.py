"""ForEach, Repeat and Timeout semantics (py_trees' Retry/Inverter are covered through the loader tests)."""

from __future__ import annotations

import py_trees
import pytest
from py_trees.behaviours import StatusQueue
from py_trees.common import Access, Status

from dexagent.skills.params import BlackboardRef
from dexagent.trees.decorators import ForEach, Repeat, Timeout

S, F, R = Status.SUCCESS, Status.FAILURE, Status.RUNNING


class Recorder(py_trees.behaviour.Behaviour):
    """Reads /item when it starts, runs one tick, then plays the outcome scripted for that item."""

    def __init__(self, outcomes: dict[str, Status] | None = None) -> None:
        super().__init__("recorder")
        self.outcomes = outcomes or {}
        self.seen: list[str] = []
        self.bb = self.attach_blackboard_client("recorder")
        self.bb.register_key("/item", access=Access.READ)
        self.ticks = 0

    def initialise(self) -> None:
        self.seen.append(self.bb.get("/item"))
        self.ticks = 0

    def update(self) -> Status:
        self.ticks += 1
        if self.ticks == 1:
            return R
        return self.outcomes.get(self.seen[-1], S)


def run(root: py_trees.behaviour.Behaviour, max_ticks: int = 50) -> tuple[Status, int]:
    for count in range(1, max_ticks + 1):
        root.tick_once()
        if root.status != R:
            return root.status, count
    raise AssertionError("still running")


def set_items(value: object) -> None:
    py_trees.blackboard.Blackboard.set("/things", value)


def test_for_each_runs_the_child_once_per_blackboard_item_in_order() -> None:
    set_items(["cup", "can", "apple"])
    child = Recorder()
    loop = ForEach("loop", child, BlackboardRef("things"), "item")
    assert run(loop) == (S, 6)  # two ticks per item
    assert child.seen == ["cup", "can", "apple"]
    assert loop.feedback_message == "3/3 items succeeded"


def test_for_each_reads_the_list_when_it_starts_not_when_it_is_built() -> None:
    set_items(["a"])
    child = Recorder()
    loop = ForEach("loop", child, BlackboardRef("things"), "item")
    set_items(["b", "c"])
    run(loop)
    assert child.seen == ["b", "c"]


def test_for_each_over_an_empty_list_succeeds_without_running_the_child() -> None:
    set_items([])
    child = Recorder()
    assert run(ForEach("loop", child, BlackboardRef("things"), "item")) == (S, 1)
    assert child.seen == [] and child.status == Status.INVALID


def test_for_each_stops_at_the_first_failure_by_default() -> None:
    child = Recorder({"b": F})
    loop = ForEach("loop", child, ("a", "b", "c"), "item")
    assert run(loop)[0] == F
    assert child.seen == ["a", "b"] and loop.failed_items == ["b"]


def test_for_each_can_continue_past_failures_and_fails_at_the_end() -> None:
    child = Recorder({"b": F})
    loop = ForEach("loop", child, ("a", "b", "c"), "item", on_failure="continue")
    assert run(loop)[0] == F
    assert child.seen == ["a", "b", "c"] and loop.failed_items == ["b"]
    assert loop.feedback_message == "2/3 items succeeded"


def test_for_each_handles_none_items() -> None:
    child = Recorder()
    assert run(ForEach("loop", child, ("a", None, "c"), "item"))[0] == S
    assert child.seen == ["a", None, "c"]  # py_trees' ForEach would stop at None


@pytest.mark.parametrize(
    ("value", "message"),
    [(None, "is not set"), ("cup", "holds str, not a list"), (3, "holds int, not a list")],
)
def test_for_each_fails_clearly_when_the_list_is_missing_or_not_a_list(value: object, message: str) -> None:
    if value is not None:
        set_items(value)
    loop = ForEach("loop", Recorder(), BlackboardRef("things"), "item")
    assert run(loop) == (F, 1)
    assert message in loop.feedback_message


def test_for_each_restarts_from_the_first_item_when_reactivated() -> None:
    child = Recorder()
    loop = ForEach("loop", child, ("a", "b"), "item")
    run(loop)
    run(loop)
    assert child.seen == ["a", "b", "a", "b"]


def test_repeat_times_needs_that_many_successes() -> None:
    child = StatusQueue("child", queue=[S, S, S, S], eventually=None)
    assert run(Repeat("repeat", child, times=3)) == (S, 3)


def test_repeat_times_fails_on_a_failure() -> None:
    child = StatusQueue("child", queue=[S, F, S], eventually=None)
    assert run(Repeat("repeat", child, times=3)) == (F, 2)


def test_repeat_until_failure_succeeds_when_the_child_fails() -> None:
    child = StatusQueue("child", queue=[S, R, S, F], eventually=None)
    repeat = Repeat("repeat", child, until="failure")
    assert run(repeat) == (S, 4)
    assert repeat.count == 3


def test_repeat_until_success_keeps_going_through_failures() -> None:
    child = StatusQueue("child", queue=[F, F, S], eventually=None)
    assert run(Repeat("repeat", child, until="success")) == (S, 3)


def test_repeat_needs_exactly_one_of_times_or_until() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Repeat("repeat", py_trees.behaviours.Success("s"), times=2, until="failure")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_timeout_fails_and_stops_the_child_on_the_injected_clock() -> None:
    clock = FakeClock()
    child = py_trees.behaviours.Running("forever")
    timeout = Timeout("timeout", child, seconds=2.0, clock=clock)
    timeout.tick_once()
    clock.now += 1.9
    timeout.tick_once()
    assert timeout.status == R and child.status == R
    clock.now += 0.2
    timeout.tick_once()
    assert timeout.status == F and child.status == Status.INVALID
    assert timeout.feedback_message == "timed out after 2 s"


def test_timeout_passes_the_child_result_through_within_the_budget() -> None:
    clock = FakeClock()
    child = StatusQueue("child", queue=[R, F], eventually=None)
    timeout = Timeout("timeout", child, seconds=5.0, clock=clock)
    assert run(timeout) == (F, 2)


def test_timeout_budget_starts_when_the_decorator_starts() -> None:
    clock = FakeClock()
    timeout = Timeout("timeout", StatusQueue("c", queue=[R, S], eventually=None), seconds=1.0, clock=clock)
    clock.now += 50  # time passing before the first tick does not count
    assert run(timeout) == (S, 2)
