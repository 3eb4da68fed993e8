"""Decorators with the semantics the tree format documents: Timeout on an injected clock, Repeat, ForEach.

Retry and Inverter come from py_trees unchanged. Ours differ from py_trees' versions
where a robot needs it: Timeout reads the run's clock (sim time in simulation, so a
budget means the same at any sim speed), Repeat can run until failure/success, and
ForEach handles an empty list, items that are None, and can continue past failures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import py_trees
from py_trees.common import Access, Status

from dexagent.skills.params import BlackboardRef

Clock = Callable[[], float]


class Timeout(py_trees.decorators.Decorator):
    """FAILURE (and the child is stopped) once the child has run longer than `seconds` on `clock`."""

    def __init__(
        self, name: str, child: py_trees.behaviour.Behaviour, seconds: float, clock: Clock = time.monotonic
    ):
        super().__init__(name=name, child=child)
        self.seconds = seconds
        self.clock = clock
        self.deadline = 0.0

    def initialise(self) -> None:
        """Start the budget when the decorator starts (not when the tree was built)."""
        self.deadline = self.clock() + self.seconds

    def update(self) -> Status:
        """Reflect the child's status, or FAILURE past the deadline."""
        if self.decorated.status == Status.RUNNING and self.clock() >= self.deadline:
            self.feedback_message = f"timed out after {self.seconds:g} s"
            self.decorated.stop(Status.INVALID)
            return Status.FAILURE
        return self.decorated.status


class Repeat(py_trees.decorators.Decorator):
    """Run the child again: `times` successes (FAILURE on a failure), or `until` it fails/succeeds."""

    def __init__(
        self,
        name: str,
        child: py_trees.behaviour.Behaviour,
        times: int | None = None,
        until: Literal["failure", "success"] | None = None,
    ):
        if (times is None) == (until is None):
            raise ValueError(f"{name}: give exactly one of times or until")
        super().__init__(name=name, child=child)
        self.times = times
        self.until = until
        self.count = 0  # finished runs of the child in this activation

    def initialise(self) -> None:
        """Start counting again."""
        self.count = 0

    def update(self) -> Status:
        """RUNNING between runs: the next tick restarts the child (py_trees re-initialises it)."""
        status = self.decorated.status
        if status == Status.RUNNING:
            return Status.RUNNING
        self.count += 1
        if self.until is not None:
            stop_on = Status.FAILURE if self.until == "failure" else Status.SUCCESS
            self.feedback_message = f"run {self.count}, until {self.until}"
            return Status.SUCCESS if status == stop_on else Status.RUNNING
        if status == Status.FAILURE:
            self.feedback_message = f"failed on run {self.count}/{self.times}"
            return Status.FAILURE
        self.feedback_message = f"{self.count}/{self.times} done"
        return Status.SUCCESS if self.count == self.times else Status.RUNNING


class ForEach(py_trees.decorators.Decorator):
    """Run the child once per item of a list, writing each item to the blackboard key `as_key` first.

    `items` is a literal tuple or a `BlackboardRef` read when the loop starts. An empty
    list succeeds without running the child. `on_failure="stop"` fails at the first
    failing item; `"continue"` runs every item and fails at the end if any failed
    (`failed_items` lists them).
    """

    def __init__(
        self,
        name: str,
        child: py_trees.behaviour.Behaviour,
        items: BlackboardRef | tuple[Any, ...],
        as_key: str,
        on_failure: Literal["stop", "continue"] = "stop",
        namespace: str = "",
    ):
        super().__init__(name=name, child=child)
        self.items_source = items
        # Same key convention as the skills (SkillContext.key): relative keys live under the run's namespace.
        self.namespace = namespace.rstrip("/")
        self.as_key = as_key if as_key.startswith("/") else f"{self.namespace}/{as_key}"
        self.on_failure = on_failure
        self.blackboard = self.attach_blackboard_client(name=name)
        if isinstance(items, BlackboardRef):
            self.blackboard.register_key(key=self._key(items), access=Access.READ)
        self.blackboard.register_key(key=self.as_key, access=Access.WRITE)
        self.items: list[Any] = []
        self.index = 0
        self.failed_items: list[Any] = []

    def tick(self) -> Iterator[py_trees.behaviour.Behaviour]:
        """Like Decorator.tick, but an empty or missing list finishes before the child is ticked."""
        if self.status != Status.RUNNING:
            self.initialise()
            problem = self._load()
            if problem is not None or not self.items:
                self.feedback_message = problem or "no items"
                self.stop(Status.FAILURE if problem else Status.SUCCESS)
                yield self
                return
        yield from self.decorated.tick()
        new_status = self.update()
        if new_status != Status.RUNNING:
            self.stop(new_status)
        self.status = new_status
        yield self

    def _key(self, ref: BlackboardRef) -> str:
        return ref.key if ref.key.startswith("/") else f"{self.namespace}/{ref.key}"

    def _load(self) -> str | None:
        self.index = 0
        self.failed_items = []
        source = self.items_source
        if isinstance(source, BlackboardRef):
            key = self._key(source)
            try:
                value = self.blackboard.get(key)
            except KeyError:
                return f"blackboard key {key!r} is not set"
            if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
                return f"blackboard key {key!r} holds {type(value).__name__}, not a list"
            self.items = list(value)
        else:
            self.items = list(source)
        if self.items:
            self.blackboard.set(self.as_key, self.items[0], overwrite=True)
        return None

    def update(self) -> Status:
        """Advance on the child's success (or failure, when continuing); finish after the last item."""
        status = self.decorated.status
        if status == Status.RUNNING:
            self.feedback_message = f"item {self.index + 1}/{len(self.items)}"
            return Status.RUNNING
        if status == Status.FAILURE:
            self.failed_items.append(self.items[self.index])
            if self.on_failure == "stop":
                self.feedback_message = f"item {self.index + 1}/{len(self.items)} failed"
                return Status.FAILURE
        self.index += 1
        if self.index < len(self.items):
            self.blackboard.set(self.as_key, self.items[self.index], overwrite=True)
            return Status.RUNNING
        self.feedback_message = (
            f"{len(self.items) - len(self.failed_items)}/{len(self.items)} items succeeded"
        )
        return Status.FAILURE if self.failed_items else Status.SUCCESS
