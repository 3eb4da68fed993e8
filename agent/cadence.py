"""The cadence report of a control loop: achieved Hz against the target, per-stage mean/worst latency.

Like LeRobot's rollout report: a loop that silently runs at 11 Hz instead of 20 is a
different controller, so every run prints what it actually achieved.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class StageStats:
    """Latency of one stage over the run (seconds)."""

    count: int = 0
    total: float = 0.0
    worst: float = 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        self.worst = max(self.worst, seconds)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


@dataclass
class Cadence:
    """Per-tick timing: `with cadence.stage("observe"): ...` inside a tick, `cadence.tick_done()` after it."""

    target_hz: float
    window: int = 40  # ticks in the rolling achieved-Hz estimate
    stages: dict[str, StageStats] = field(default_factory=dict)
    ticks: int = 0
    overruns: int = 0  # ticks whose work took longer than one period
    _tick_started: float | None = None
    _ends: deque[float] = field(default_factory=deque)
    _started: float | None = None

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the body as stage `name` (the first stage of a tick also starts the tick's clock)."""
        start = time.perf_counter()
        if self._tick_started is None:
            self._tick_started = start
        if self._started is None:
            self._started = start
        try:
            yield
        finally:
            self.stages.setdefault(name, StageStats()).add(time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        """Record `seconds` for stage `name` measured by the caller (e.g. a part of another stage)."""
        self.stages.setdefault(name, StageStats()).add(seconds)

    def tick_done(self) -> float:
        """Close the tick; returns the seconds of work it took."""
        now = time.perf_counter()
        work = now - (self._tick_started if self._tick_started is not None else now)
        self._tick_started = None
        self.ticks += 1
        if work > 1.0 / self.target_hz:
            self.overruns += 1
        self._ends.append(now)
        while len(self._ends) > self.window:
            self._ends.popleft()
        return work

    @property
    def achieved_hz(self) -> float:
        """Ticks per wall second over the recent window (the whole run until the window fills)."""
        if len(self._ends) < 2:
            return 0.0
        span = self._ends[-1] - self._ends[0]
        return (len(self._ends) - 1) / span if span > 0 else 0.0

    @property
    def overall_hz(self) -> float:
        """Ticks per wall second since the first tick started."""
        if self._started is None or not self._ends:
            return 0.0
        span = self._ends[-1] - self._started
        return self.ticks / span if span > 0 else 0.0

    def line(self, hz: float | None = None) -> str:
        """One line: `20.0 Hz (target 20) | observe 28.1/41.0 ms | ...` (mean/worst per stage)."""
        achieved = self.achieved_hz if hz is None else hz
        parts = [f"{achieved:.1f} Hz (target {self.target_hz:g}), {self.overruns} slow ticks"]
        parts += [f"{name} {s.mean * 1e3:.1f}/{s.worst * 1e3:.1f} ms" for name, s in self.stages.items()]
        return " | ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "target_hz": self.target_hz,
            "achieved_hz": round(self.overall_hz, 2),
            "ticks": self.ticks,
            "slow_ticks": self.overruns,
            "stages_ms": {
                name: {"mean": round(s.mean * 1e3, 2), "worst": round(s.worst * 1e3, 2)}
                for name, s in self.stages.items()
            },
        }
