"""The skill leaf: a py_trees behaviour that never blocks a tick.

`initialise` resolves the parameters and starts the work (`start`), `update` checks
the time budget and polls (`poll`), `terminate` cancels when the leaf is preempted
(`cancel`) and always cleans up (`finish`). Slow calls go to the context's
executor through `submit`, and `update` polls the future.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any, ClassVar, TypeVar

import py_trees
from py_trees.common import Access, Status

from dexagent.hardware import Observation, hand_closed
from dexagent.hardware.errors import DriverError
from dexagent.skills import blackboard_keys as keys
from dexagent.skills.context import SkillContext
from dexagent.skills.errors import SkillParamError
from dexagent.skills.params import refs_in, resolve_params
from dexagent.skills.registry import REGISTRY, SkillInfo, SkillKind, SkillRegistry

T = TypeVar("T")
# Keys every skill may write besides its references; subclasses add theirs in WRITES.
_COMMON_WRITES = (keys.FAILURE_REASON,)


class SkillBehaviour(py_trees.behaviour.Behaviour):
    """Base class of every skill leaf: subclasses implement `start`, `poll`, maybe `cancel`, `finish`."""

    info: ClassVar[SkillInfo]
    READS: ClassVar[tuple[str, ...]] = ()  # blackboard keys read besides "{key}" references
    WRITES: ClassVar[tuple[str, ...]] = ()  # blackboard keys written

    def __init__(self, name: str, raw_params: Mapping[str, Any], context: SkillContext) -> None:
        super().__init__(name=name)
        self.raw_params = dict(raw_params)
        self.context = context
        # The checked parameters: an instance of the skill's parameter class (None until started).
        self.params: Any = None
        self.reason = ""
        self.started_at = 0.0
        self._param_error: str | None = None
        self._futures: list[Future[Any]] = []
        self.bb = self.attach_blackboard_client(name=name)
        # Each key once (write access reads too): a client that holds a key twice cannot let go of it.
        writes = dict.fromkeys(context.key(key) for key in _COMMON_WRITES + self.WRITES)
        reads = [context.key(ref.key) for ref in refs_in(self.raw_params).values()]
        reads += [context.key(key) for key in self.READS]
        for key in dict.fromkeys(reads):
            if key not in writes:
                self.bb.register_key(key, access=Access.READ)
        for key in writes:
            self.bb.register_key(key, access=Access.WRITE)

    # -- hooks for subclasses -------------------------------------------------------------

    def start(self) -> None:
        """Begin the work (called from `initialise` with `self.params` resolved). Must return fast."""

    def poll(self) -> Status:
        """One tick of work; return RUNNING, SUCCESS or FAILURE (via `self.fail`)."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Stop the work because a parent preempted this leaf while it was RUNNING."""

    def finish(self, status: Status) -> None:
        """Release resources whatever the outcome (called on every terminate after a start)."""

    def on_timeout(self, budget_s: float) -> Status:
        """The budget ran out while RUNNING; the default records the reason and fails."""
        return self.fail(f"timeout after {budget_s:.1f} s")

    @property
    def budget_s(self) -> float | None:
        """The time budget in seconds (from the `budget_s` parameter), None for no limit."""
        return getattr(self.params, "budget_s", None)

    # -- the py_trees lifecycle ------------------------------------------------------------

    def initialise(self) -> None:
        self.reason = ""
        self.params = None  # a failed resolution must not leave the last activation's values behind
        self._param_error = None
        self._futures = []
        self.started_at = self.context.clock()
        try:
            self.params = resolve_params(self.info, self.raw_params, _Reader(self.bb, self.context))
        except SkillParamError as error:
            self._param_error = str(error)
            return
        self.context.log("skill_start", {"skill": self.info.name, "node": self.name, **self.params_dict()})
        self.start()

    def update(self) -> Status:
        if self._param_error is not None:
            return self.fail(self._param_error, prefix=False)
        budget = self.budget_s
        elapsed = self.context.clock() - self.started_at
        # A budget of N ticks' worth of time allows exactly N ticks of work (tolerating float sums).
        if budget is not None and elapsed >= budget - 1e-9:
            return self.on_timeout(budget)
        try:
            return self.poll()
        except DriverError as error:
            # A device fault (a silent hand, an arm error code, a camera gone): the robot already
            # stopped itself; this attempt fails, and the tree may recover. An emergency stop is no
            # DriverError: it ends the run.
            self.context.log("robot_fault", {"skill": self.info.name, "node": self.name, "error": str(error)})
            return self.fail(f"robot fault: {error}")

    def terminate(self, new_status: Status) -> None:
        if self.params is None:
            return
        if new_status == Status.INVALID and self.status == Status.RUNNING:
            self.cancel()
            self.context.log("skill_preempted", {"skill": self.info.name, "node": self.name})
        for future in self._futures:
            future.cancel()  # a call already running finishes in the background; its result is dropped
        self._futures = []
        self.finish(new_status)
        if new_status != Status.INVALID:
            self.context.log(
                "skill_end",
                {
                    "skill": self.info.name,
                    "node": self.name,
                    "status": new_status.value,
                    "reason": self.reason,
                    "seconds": round(self.context.clock() - self.started_at, 3),
                },
            )

    # -- helpers -----------------------------------------------------------------------------

    def params_dict(self) -> dict[str, Any]:
        """The checked parameters as JSON values (for the event log)."""
        if self.params is None:
            return {}
        if dataclasses.is_dataclass(self.params):
            return dataclasses.asdict(self.params)  # type: ignore[arg-type]  # an instance, not the class
        dumped: dict[str, Any] = self.params.model_dump(mode="json")
        return dumped

    def hand_is_closed(self, observation: Observation) -> bool:
        """Whether the hand was commanded closed: the last action let through, or the measured
        state before any. Fingers around an object stop short of the closed reading (a bottle
        or a toy block holds them at 0.8), so the measured hand alone misses real grasps."""
        last = self.context.robot.safety.hold_action
        return hand_closed(
            last if last is not None else observation.state, self.context.robot.spec.arm_joints
        )

    def fail(self, reason: str, prefix: bool = True) -> Status:
        """Record why this skill failed (blackboard and event log) and return FAILURE."""
        self.reason = f"{self.info.name}: {reason}" if prefix else reason
        self.feedback_message = self.reason
        self.write(keys.FAILURE_REASON, self.reason)
        return Status.FAILURE

    def write(self, key: str, value: Any) -> None:
        self.bb.set(self.context.key(key), value, overwrite=True)

    def read(self, key: str, default: Any = None) -> Any:
        try:
            return self.bb.get(self.context.key(key))
        except KeyError:
            return default

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Run `function(*args)` on the context's worker threads; poll the future in `poll`."""
        future = self.context.executor.submit(function, *args)
        self._futures.append(future)
        return future


class _Reader:
    """Reads "{key}" references through the behaviour's blackboard client, in the run's namespace."""

    def __init__(self, client: py_trees.blackboard.Client, context: SkillContext) -> None:
        self.client = client
        self.context = context

    def get(self, name: str) -> Any:
        return self.client.get(self.context.key(name))


B = TypeVar("B", bound=type[SkillBehaviour])


def skill(
    name: str,
    params: type,
    kind: SkillKind = "action",
    registry: SkillRegistry = REGISTRY,
    *,
    reads: tuple[str, ...] = (),
    writes: tuple[str, ...] = (),
) -> Callable[[B], B]:
    """Class decorator: register a `SkillBehaviour` subclass as the skill `name`, with its parameter
    class (a dataclass of `param()` fields, or a pydantic model) and the blackboard keys it reads and
    writes (every skill also writes `failure_reason` when it fails)."""

    def decorate(cls: B) -> B:
        doc_lines = (cls.__doc__ or "").strip().splitlines()
        description = doc_lines[0] if doc_lines else ""
        cls.info = registry.declare(name, description, params, cls, kind, reads=reads, writes=writes)
        return cls

    return decorate
