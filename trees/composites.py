"""Composites py_trees lacks: Nav2-style `Recovery` and `RoundRobin`.

Both follow py_trees' composite contract: `tick()` is a generator that ticks children
and yields them, then yields itself with its new status; a child left RUNNING is
stopped (INVALID) when the composite finishes or is preempted.
"""

from __future__ import annotations

from collections.abc import Iterator

import py_trees
from py_trees.common import Status


class Recovery(py_trees.composites.Composite):
    """Run `child`; when it fails run `recover`, and if that succeeds run `child` again, `retries` times.

    SUCCESS as soon as `child` succeeds; FAILURE when `recover` fails or `child` failed
    `retries + 1` times. Like Nav2's RecoveryNode, the switch between the two happens in
    the same tick, so a fast recovery costs no extra tick.
    """

    def __init__(
        self,
        name: str,
        child: py_trees.behaviour.Behaviour,
        recover: py_trees.behaviour.Behaviour,
        retries: int,
    ):
        if retries < 1:
            raise ValueError(f"{name}: retries must be >= 1, got {retries}")
        super().__init__(name, [child, recover])
        self.retries = retries
        self.recoveries_used = 0  # how many times `recover` succeeded in this activation (for summaries)

    def tick(self) -> Iterator[py_trees.behaviour.Behaviour]:
        """Tick the current branch and switch between child and recovery as their statuses say."""
        main, recover = self.children
        if self.status != Status.RUNNING:
            for child in self.children:
                if child.status != Status.INVALID:
                    child.stop(Status.INVALID)
            self.current_child = main
            self.recoveries_used = 0
            self.initialise()
        while True:
            child = self.current_child if self.current_child is not None else main
            yield from child.tick()
            if child.status == Status.RUNNING:
                self.status = Status.RUNNING
                yield self
                return
            if child is main and child.status == Status.SUCCESS:
                self.feedback_message = f"succeeded after {self.recoveries_used} recoveries"
                self.stop(Status.SUCCESS)
                yield self
                return
            if child is main:
                if self.recoveries_used >= self.retries:
                    self.feedback_message = f"failed after {self.recoveries_used} recoveries"
                    self.stop(Status.FAILURE)
                    yield self
                    return
                self.feedback_message = f"recovering ({self.recoveries_used + 1}/{self.retries})"
                self.current_child = recover
                continue
            if child.status == Status.FAILURE:
                self.feedback_message = "the recovery itself failed"
                self.stop(Status.FAILURE)
                yield self
                return
            self.recoveries_used += 1
            self.feedback_message = f"retrying after recovery {self.recoveries_used}/{self.retries}"
            self.current_child = main

    def stop(self, new_status: Status = Status.INVALID) -> None:
        """Stop a running branch too (py_trees only does that on INVALID)."""
        for child in self.children:
            if child.status == Status.RUNNING:
                child.stop(Status.INVALID)
        super().stop(new_status)


class RoundRobin(py_trees.composites.Composite):
    """A selector that remembers where it left off.

    Each activation tries children in turn, starting after the one that last succeeded,
    until one succeeds (SUCCESS) or every child failed once (FAILURE). Useful to
    alternate strategies or targets between attempts instead of always trying the first.
    """

    def __init__(self, name: str, children: list[py_trees.behaviour.Behaviour]):
        if not children:
            raise ValueError(f"{name}: a round robin needs at least one child")
        super().__init__(name, children)
        self.next_index = 0  # survives activations: that is the point of a round robin
        self._index = 0
        self._tried = 0

    def tick(self) -> Iterator[py_trees.behaviour.Behaviour]:
        """Tick the current child; on failure move to the next, on success remember the one after it."""
        count = len(self.children)
        if self.status != Status.RUNNING:
            for child in self.children:
                if child.status != Status.INVALID:
                    child.stop(Status.INVALID)
            self._index = self.next_index % count
            self._tried = 0
            self.initialise()
        while self._tried < count:
            child = self.children[self._index]
            self.current_child = child
            yield from child.tick()
            if child.status == Status.RUNNING:
                self.status = Status.RUNNING
                yield self
                return
            if child.status == Status.SUCCESS:
                self.next_index = (self._index + 1) % count
                self.stop(Status.SUCCESS)
                yield self
                return
            self._tried += 1
            self._index = (self._index + 1) % count
        self.next_index = self._index
        self.feedback_message = "every child failed"
        self.stop(Status.FAILURE)
        yield self
