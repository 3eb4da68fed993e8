"""One paced control loop and one cadence report, for every loop that drives the robot.

Like LeRobot's rollout report: a loop that silently runs at 11 Hz instead of 20 is a
different controller, so `dexagent run`, the collect/eval rollout and `bench_cadence.py`
all pace their ticks with a `Pacer` and print the same `Cadence`: achieved Hz against the
target, slow and starved ticks, and per-stage latency (mean, p50, p95, worst).

A loop reads:

    pacer = Pacer(20.0, paced=realtime)
    pacer.start()
    while ...:
        with pacer.cadence.stage("observe"):
            observation = robot.observe()
        ...
        pacer.tick_done()  # close the tick: count it, slow when its work overran the period
        pacer.wait()  # sleep to the next period boundary (no-op when unpaced)

Time comes from an injected clock and sleep (default `time.perf_counter`, `time.sleep`), so
the pacing logic is tested without timing anything.
"""

from __future__ import annotations

import math
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Clock = Callable[[], float]
Sleep = Callable[[float], None]

RECENT_TICKS = 40  # ticks in the rolling achieved-Hz estimate a live view shows
TICK_STAGE = "tick"  # the stage every Pacer records: a whole tick's work, from its period's start


class CadenceMergeError(ValueError):
    """Reports of loops with different targets (Hz, or paced and unpaced) cannot be merged."""


def _nearest_rank(ordered: list[float], q: float) -> float:
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1] if ordered else 0.0


@dataclass
class StageStats:
    """Latency samples of one stage in seconds: count, mean, p50/p95 and worst."""

    samples: array[float] = field(default_factory=lambda: array("d"))
    total_s: float = 0.0
    worst_s: float = 0.0  # kept as samples arrive: a controller reads it every tick

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)
        self.total_s += seconds
        self.worst_s = max(self.worst_s, seconds)

    def merge(self, other: StageStats) -> None:
        """Add `other`'s samples to these (e.g. the same stage of another episode)."""
        self.samples.extend(other.samples)
        self.total_s += other.total_s
        self.worst_s = max(self.worst_s, other.worst_s)

    @property
    def count(self) -> int:
        return len(self.samples)

    @property
    def mean_s(self) -> float:
        return self.total_s / self.count if self.count else 0.0

    def percentile_s(self, q: float) -> float:
        """The nearest-rank q-th percentile, q in (0, 100]: always a measured latency (0 when none)."""
        return _nearest_rank(sorted(self.samples), q)

    @property
    def p50_s(self) -> float:
        return self.percentile_s(50)

    @property
    def p95_s(self) -> float:
        return self.percentile_s(95)

    def as_ms(self) -> dict[str, float]:
        """{"count", "mean", "p50", "p95", "worst"}, latencies in ms rounded to 0.01."""
        ordered = sorted(self.samples)  # once for both percentiles
        return {
            "count": self.count,
            "mean": round(self.mean_s * 1e3, 2),
            "p50": round(_nearest_rank(ordered, 50) * 1e3, 2),
            "p95": round(_nearest_rank(ordered, 95) * 1e3, 2),
            "worst": round(self.worst_s * 1e3, 2),
        }


@runtime_checkable
class TimedController(Protocol):
    """A controller that times its own stages (PolicyController: track, infer) and counts the
    ticks that had to wait for a chunk."""

    stats: dict[str, StageStats]
    starved_ticks: int


@dataclass
class Cadence:
    """What a loop achieved: ticks, achieved against target Hz, slow and starved ticks, stage latency.

    Stages are timed with `stage(name)` (or measured by the caller and given to `add`); a
    `Pacer` counts the ticks. `as_dict()` is the plain form logs and JSON reports carry, and
    `render_cadence` the one text form every loop prints.
    """

    target_hz: float
    paced: bool = True  # False: ticks ran back to back, so the rate is not an achievement
    ticks: int = 0
    wall_s: float = 0.0  # wall seconds from the first tick's start to the last tick's period end
    slow_ticks: int = 0  # ticks whose work overran one period
    starved_ticks: int = 0  # ticks that waited for the controller's next chunk
    stages: dict[str, StageStats] = field(default_factory=dict)
    clock: Clock = field(default=time.perf_counter, repr=False, compare=False)
    _recent_ends: deque[float] = field(
        default_factory=lambda: deque(maxlen=RECENT_TICKS), repr=False, compare=False
    )

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the body as stage `name`."""
        start = self.clock()
        try:
            yield
        finally:
            self.add(name, self.clock() - start)

    def add(self, name: str, seconds: float) -> None:
        """Record `seconds` for stage `name` measured by the caller (e.g. a part of another stage)."""
        self.stages.setdefault(name, StageStats()).add(seconds)

    def record_tick(self, end: float, wall_s: float, slow: bool) -> None:
        """Count one tick that ended (its period included) at `end`, `wall_s` after the loop started."""
        self.ticks += 1
        self.slow_ticks += int(slow)
        self.wall_s = wall_s
        self._recent_ends.append(end)

    def add_controller(self, controller: object) -> None:
        """Fold in a controller's own stage latencies and starved ticks, when it keeps them."""
        if not isinstance(controller, TimedController):
            return  # a scripted expert neither infers nor waits
        self.starved_ticks += controller.starved_ticks
        for name, stats in controller.stats.items():
            self.stages.setdefault(name, StageStats()).merge(stats)

    def merge(self, other: Cadence) -> None:
        """Add `other`'s ticks, wall time and stage samples to this report (same target rate only)."""
        if (other.target_hz, other.paced) != (self.target_hz, self.paced):
            raise CadenceMergeError(
                f"cannot merge a {other.target_hz:g} Hz {'paced' if other.paced else 'unpaced'} loop "
                f"into a {self.target_hz:g} Hz {'paced' if self.paced else 'unpaced'} one"
            )
        self.ticks += other.ticks
        self.wall_s += other.wall_s
        self.slow_ticks += other.slow_ticks
        self.starved_ticks += other.starved_ticks
        for name, stats in other.stages.items():
            self.stages.setdefault(name, StageStats()).merge(stats)

    @property
    def achieved_hz(self) -> float:
        """Ticks per wall second over the whole loop."""
        return self.ticks / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def recent_hz(self) -> float:
        """Ticks per wall second over the last `RECENT_TICKS` ticks (the whole loop until then)."""
        ends = self._recent_ends
        if len(ends) < RECENT_TICKS:
            return self.achieved_hz
        span = ends[-1] - ends[0]
        return (len(ends) - 1) / span if span > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON values (stage latencies in ms)."""
        return {
            "target_hz": self.target_hz,
            "paced": self.paced,
            "achieved_hz": round(self.achieved_hz, 2),
            "ticks": self.ticks,
            "slow_ticks": self.slow_ticks,
            "starved_ticks": self.starved_ticks,
            "stages_ms": {name: stats.as_ms() for name, stats in self.stages.items()},
        }

    def render(self) -> str:
        """The report as text: a headline, then one line per stage."""
        return render_cadence(self.as_dict())

    def line(self) -> str:
        """The report on one line for a live view, at the recent rate rather than the whole loop's."""
        return render_cadence({**self.as_dict(), "achieved_hz": round(self.recent_hz, 2)}, one_line=True)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def render_cadence(report: Mapping[str, Any], *, one_line: bool = False) -> str:
    """The one text form of a cadence report (`Cadence.as_dict()`, also as read back from a log).

    `19.8 Hz achieved (target 20) over 1200 ticks, 3 slow ticks, 0 starved ticks`, then per stage
    `observe  mean 17.0  p50 16.8  p95 24.1  worst 26.1 ms  (n=1200)`; with `one_line`, stages
    follow the headline as `| observe 17.0/26.1 ms` (mean/worst).
    """
    target = f"target {report['target_hz']:g}"
    if report.get("paced", True):
        rate = f"{report['achieved_hz']:.1f} Hz achieved ({target})"
    else:  # unpaced: a rate above the target is not an achievement, only how fast ticks ran
        rate = f"{report['achieved_hz']:.1f} ticks/s unpaced ({target})"
    headline = (
        f"{rate} over {_count(int(report['ticks']), 'tick')}, "
        f"{_count(int(report['slow_ticks']), 'slow tick')}, "
        f"{_count(int(report.get('starved_ticks', 0)), 'starved tick')}"
    )
    stages: Mapping[str, Mapping[str, float]] = report["stages_ms"]
    if one_line:
        parts = [f"{name} {s['mean']:.1f}/{s['worst']:.1f} ms" for name, s in stages.items()]
        return " | ".join([headline, *parts])
    width = max((len(name) for name in stages), default=0)
    lines = [headline]
    for name, s in stages.items():
        lines.append(
            f"  {name:<{width}}  mean {s['mean']:6.1f}  p50 {s['p50']:6.1f}  p95 {s['p95']:6.1f}  "
            f"worst {s['worst']:6.1f} ms  (n={int(s['count'])})"
        )
    return "\n".join(lines)


def merge_cadences(reports: Iterable[Cadence]) -> Cadence:
    """One report for loops that ran apart (eval episodes, maybe in parallel workers): ticks, slow and
    starved ticks add up, stage samples pool, and the achieved rate is total ticks over total
    wall seconds - the rate one loop kept on average, not the workers' throughput."""
    reports = list(reports)
    if not reports:
        raise CadenceMergeError("no cadence reports to merge")
    merged = Cadence(reports[0].target_hz, paced=reports[0].paced)
    for report in reports:
        merged.merge(report)
    return merged


class Pacer:
    """Paces a loop at `hz` ticks per wall second and counts its ticks into `cadence`.

    A tick is the work from its period's start to `tick_done()`; the first period starts at
    `start()`. A tick whose work overran the period is slow. When `paced`, `wait()` sleeps
    to the next period boundary; after a slow tick the next period starts at once (a late
    loop does not catch up with a burst of ticks, which would hand the robot several steps
    at once). Unpaced, `wait()` returns at once and the next tick starts where this one ended.
    """

    def __init__(
        self, hz: float, *, paced: bool = True, clock: Clock = time.perf_counter, sleep: Sleep = time.sleep
    ) -> None:
        if not hz > 0:
            raise ValueError(f"a control rate must be positive, got {hz} Hz")
        self.period = 1.0 / hz
        self.paced = paced
        self.clock = clock
        self.sleep = sleep
        self.cadence = Cadence(hz, paced=paced, clock=clock)
        self._started: float | None = None
        self._period_start = 0.0  # of the tick in progress
        self._next_start: float | None = None  # where wait() sleeps to, once a tick is done

    def start(self) -> None:
        """The first tick's period starts now."""
        self._started = self._period_start = self.clock()
        self._next_start = None

    def tick_done(self) -> bool:
        """Close the tick in progress: count it and its work (stage `tick`); True when it was slow."""
        if self._started is None:
            raise RuntimeError("Pacer.tick_done() before Pacer.start()")
        now = self.clock()
        work = now - self._period_start
        slow = work > self.period
        # A paced tick on time lasts to its period's end; a slow or unpaced one ends now.
        end = self._period_start + self.period if self.paced and not slow else now
        self.cadence.add(TICK_STAGE, work)
        self.cadence.record_tick(end, end - self._started, slow)
        self._period_start = self._next_start = end
        return slow

    def wait(self) -> None:
        """Sleep until the next tick's period starts (at once when unpaced or after a slow tick)."""
        if self._next_start is None:
            return
        delay = self._next_start - self.clock()
        self._next_start = None
        if delay > 0:
            self.sleep(delay)
