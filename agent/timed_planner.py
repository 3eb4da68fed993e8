"""A `Planner` wrapper that counts and times every call, for the summary and the episode log."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from dexagent.hardware import Box, Observation
from dexagent.skills.planning import AttemptRecord, Instruction, Plan, Planner, Verdict

T = TypeVar("T")


@dataclass(frozen=True)
class PlannerCall:
    stage: str  # propose, ground, verify_grasp, is_complete
    seconds: float
    ok: bool
    error: str = ""


class TimedPlanner:
    """Forwards to `planner`, recording each call (calls come from worker threads: a lock guards the list)."""

    def __init__(self, planner: Planner, log: Callable[[str, Mapping[str, Any]], None] | None = None) -> None:
        self.planner = planner
        self.log = log
        self.calls: list[PlannerCall] = []
        self._lock = threading.Lock()

    def _timed(self, stage: str, call: Callable[[], T]) -> T:
        start = time.perf_counter()
        try:
            result = call()
        except Exception as error:  # recorded, then re-raised to the skill that asked
            self._record(
                PlannerCall(stage, time.perf_counter() - start, False, f"{type(error).__name__}: {error}")
            )
            raise
        self._record(PlannerCall(stage, time.perf_counter() - start, True))
        return result

    def _record(self, call: PlannerCall) -> None:
        with self._lock:
            self.calls.append(call)
        if self.log is not None:
            fields: dict[str, Any] = {"stage": call.stage, "seconds": round(call.seconds, 4), "ok": call.ok}
            if call.error:
                fields["error"] = call.error
            self.log("planner_call", fields)

    def propose(self, prompt: str, observation: Observation, history: Sequence[AttemptRecord]) -> Plan:
        return self._timed("propose", lambda: self.planner.propose(prompt, observation, history))

    def ground(self, instruction: Instruction, observation: Observation) -> Box:
        return self._timed("ground", lambda: self.planner.ground(instruction, observation))

    def verify_grasp(self, instruction: Instruction, observation: Observation) -> Verdict:
        return self._timed("verify_grasp", lambda: self.planner.verify_grasp(instruction, observation))

    def is_complete(self, prompt: str, first_observation: Observation, observation: Observation) -> Verdict:
        return self._timed(
            "is_complete", lambda: self.planner.is_complete(prompt, first_observation, observation)
        )

    def stats(self) -> dict[str, dict[str, float]]:
        """Per stage: calls, failures, mean and worst seconds."""
        with self._lock:
            calls = list(self.calls)
        out: dict[str, dict[str, float]] = {}
        for call in calls:
            entry = out.setdefault(call.stage, {"calls": 0, "failed": 0, "mean_s": 0.0, "worst_s": 0.0})
            entry["calls"] += 1
            entry["failed"] += 0 if call.ok else 1
            entry["mean_s"] += call.seconds
            entry["worst_s"] = max(entry["worst_s"], call.seconds)
        for entry in out.values():
            entry["mean_s"] = entry["mean_s"] / entry["calls"]
        return out
