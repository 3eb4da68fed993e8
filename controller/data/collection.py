"""A collection run: attempts until enough demos are kept, each appended to a store as it comes, and
the run's statistics (what was kept and dropped, how on-policy rollouts went).

`collect.py` records one attempt; this module loops over attempts. The CLI parses, calls
`collect_into` and prints the tally.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from dexagent.controller.data.collect import CollectJob, Demo, attempt_indices, iter_demos
from dexagent.controller.data.store import DemoStore


def max_attempts(episodes: int) -> int:
    """How many attempts a run for `episodes` demos makes at most: a broken expert must not loop forever."""
    return max(20, 3 * episodes)


class RolloutTally:
    """How the kept on-policy rollouts went: grasps, failures, the expert's share, label re-opens."""

    def __init__(self) -> None:
        self.episodes = self.grasped = self.reopening = self.ticks = self.expert_ticks = 0
        self.reasons: Counter[str] = Counter()

    def add(self, demo: Demo) -> None:
        self.episodes += 1
        self.grasped += demo.success
        self.reopening += demo.label_reopens > 0
        self.ticks += demo.steps
        self.expert_ticks += demo.expert_ticks
        if not demo.success:
            self.reasons[demo.reason or "failed"] += 1

    def summary(self) -> str:
        reasons = ", ".join(f"{reason} {count}" for reason, count in self.reasons.most_common()) or "none"
        return (
            f"rollouts: {self.grasped}/{self.episodes} grasped; expert drove "
            f"{self.expert_ticks / max(self.ticks, 1):.0%} of ticks; {self.reopening} episodes whose labels "
            f"re-open the hand; failures: {reasons}"
        )


@dataclass
class CollectionTally:
    """A collection run so far: attempts, demos kept, why the others were dropped, since when."""

    attempts: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    rollouts: RolloutTally = field(default_factory=RolloutTally)
    started: float = field(default_factory=time.perf_counter)

    def add(self, demo: Demo) -> bool:
        """Count one attempt's demo; True when it is kept (it has frames and metadata to store)."""
        self.attempts += 1
        if demo.frames is None or demo.metadata is None:
            self.dropped[demo.reason or "failed"] += 1
            return False
        self.kept += 1
        self.rollouts.add(demo)
        return True

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.started

    def dropped_summary(self) -> str:
        """`reason count, ...`, most common first ("" when nothing was dropped)."""
        return ", ".join(f"{reason} {count}" for reason, count in self.dropped.most_common())


def collect_into(
    store: DemoStore,
    job: CollectJob,
    episodes: int,
    *,
    workers: int = 1,
    tally: CollectionTally | None = None,
    on_demo: Callable[[CollectionTally], None] | None = None,
) -> CollectionTally:
    """Append `job`'s demos to the open `store` until `episodes` are kept or `max_attempts` are made.

    Scenes already in the store are skipped (appending). `on_demo` sees the tally after each
    attempt. Pass your own `tally` to read what was kept when the run is interrupted (Ctrl-C): every
    demo it counts as kept is already in the store; leaving early stops the worker processes at once.
    """
    tally = tally if tally is not None else CollectionTally()
    limit = max_attempts(episodes)
    indices = attempt_indices(job, set(store.metadata_column("seed").tolist()))
    with closing(iter_demos(job, indices, workers)) as demos:
        for demo in demos:
            if demo.frames is not None and demo.metadata is not None:
                store.append_episode(demo.frames, demo.metadata)
            tally.add(demo)
            if on_demo is not None:
                on_demo(tally)
            if tally.kept >= episodes or tally.attempts >= limit:
                break
    return tally


def folder_bytes(path: Path) -> int:
    """Bytes of every file under `path` (a store's size on disk)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
