"""Recovery and RoundRobin semantics, ticked with scripted py_trees behaviours."""

from __future__ import annotations

import py_trees
from py_trees.behaviours import StatusQueue
from py_trees.common import Status

from dexagent.trees.composites import Recovery, RoundRobin

S, F, R = Status.SUCCESS, Status.FAILURE, Status.RUNNING


def queue(name: str, statuses: list[Status], eventually: Status | None = None) -> StatusQueue:
    return StatusQueue(name, queue=statuses, eventually=eventually)


def tick(root: py_trees.behaviour.Behaviour, times: int = 1) -> list[Status]:
    statuses = []
    for _ in range(times):
        root.tick_once()
        statuses.append(root.status)
    return statuses


def test_recovery_succeeds_without_recovering_when_the_child_succeeds() -> None:
    child, fix = queue("child", [R, S]), queue("fix", [S])
    root = Recovery("recovery", child, fix, retries=2)
    assert tick(root, 2) == [R, S]
    assert fix.status == Status.INVALID
    assert root.recoveries_used == 0


def test_recovery_runs_the_recovery_then_retries_the_child() -> None:
    child, fix = queue("child", [F, R, S]), queue("fix", [R, S])
    root = Recovery("recovery", child, fix, retries=1)
    # tick 1: child fails, fix starts (same tick); tick 2: fix succeeds, child retried (same tick) and runs
    assert tick(root, 3) == [R, R, S]
    assert root.recoveries_used == 1


def test_recovery_fails_when_the_retries_are_used_up() -> None:
    child, fix = queue("child", [F, F, F], eventually=F), queue("fix", [S, S], eventually=S)
    root = Recovery("recovery", child, fix, retries=2)
    assert tick(root) == [F]  # every switch happens within the tick: 3 child failures, 2 recoveries
    assert root.recoveries_used == 2
    assert "failed after 2 recoveries" in root.feedback_message


def test_recovery_fails_when_the_recovery_fails() -> None:
    child, fix = queue("child", [F], eventually=S), queue("fix", [F])
    root = Recovery("recovery", child, fix, retries=3)
    assert tick(root) == [F]
    assert root.recoveries_used == 0


def test_recovery_restarts_from_the_child_on_a_new_activation() -> None:
    child, fix = queue("child", [F, S, S]), queue("fix", [S])
    root = Recovery("recovery", child, fix, retries=1)
    assert tick(root, 2) == [S, S]
    assert root.recoveries_used == 0  # second activation: the child succeeded straight away


def test_preempting_a_recovery_stops_its_running_branch() -> None:
    child, fix = queue("child", [F]), queue("fix", [R, R, R])
    root = Recovery("recovery", child, fix, retries=1)
    tick(root)
    assert fix.status == R
    root.stop(Status.INVALID)
    assert fix.status == Status.INVALID and root.status == Status.INVALID


def test_round_robin_starts_after_the_child_that_last_succeeded() -> None:
    root = RoundRobin("rr", [py_trees.behaviours.Success(name) for name in "abc"])
    order = []
    for _ in range(4):
        assert tick(root) == [S]
        order.append(root.current_child.name if root.current_child else None)
    assert order == ["a", "b", "c", "a"]


def test_round_robin_moves_past_failing_children_within_one_tick() -> None:
    a, b, c = queue("a", [S, S]), queue("b", [S]), queue("c", [F])
    root = RoundRobin("rr", [a, b, c])
    tick(root, 2)  # a then b succeeded: the next activation starts at c
    assert tick(root) == [S]
    assert c.status == F and root.current_child is a


def test_round_robin_fails_after_every_child_failed_once() -> None:
    a, b = queue("a", [F, S]), queue("b", [F, F])
    root = RoundRobin("rr", [a, b])
    assert tick(root) == [F]
    assert root.feedback_message == "every child failed"
    # next activation starts where it stopped (a), which now succeeds
    assert tick(root) == [S] and root.current_child is a


def test_round_robin_keeps_a_running_child_running() -> None:
    a, b = queue("a", [F]), queue("b", [R, R, S])
    root = RoundRobin("rr", [a, b])
    assert tick(root, 3) == [R, R, S]
    assert a.status == F or a.status == Status.INVALID
