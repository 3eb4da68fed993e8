"""A collection run's loop and statistics (`controller/data/collection.py`), without the sim.

The attempts come from a scripted stand-in for `iter_demos`; the store is a stand-in that records
what it was given, so the loop's stopping rules and counts are checked on their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from dexagent.controller.data import collection
from dexagent.controller.data.collect import CollectJob, Demo
from dexagent.controller.data.collection import CollectionTally, collect_into, max_attempts


class _Store:
    def __init__(self, seeds: list[int]) -> None:
        self.seeds = seeds
        self.appended: list[object] = []

    def metadata_column(self, name: str) -> np.ndarray:
        assert name == "seed"
        return np.array(self.seeds)

    def append_episode(self, frames: object, metadata: object) -> None:
        self.appended.append(metadata)


def _kept(index: int, *, success: bool = True, reopens: int = 0) -> Demo:
    return Demo(
        index, index, success, None if success else "dropped", 10, 0.1, object(), f"meta{index}", reopens, 4
    )


def _dropped(index: int, reason: str) -> Demo:
    return Demo(index, index, False, reason, 3, 0.1)


def _scripted(demos: list[Demo], monkeypatch: pytest.MonkeyPatch) -> list[Demo]:
    served: list[Demo] = []

    def iter_demos(job: CollectJob, indices: Iterator[int], workers: int) -> Iterator[Demo]:
        for demo in demos:
            served.append(demo)
            yield demo

    monkeypatch.setattr(collection, "iter_demos", iter_demos)
    return served


def test_the_loop_stores_kept_demos_and_stops_once_enough_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    demos = [_kept(0), _dropped(1, "missed"), _kept(2), _dropped(3, "missed"), _kept(4), _kept(5)]
    served = _scripted(demos, monkeypatch)
    store = _Store([])
    seen: list[int] = []
    tally = collect_into(store, CollectJob(), 3, on_demo=lambda t: seen.append(t.attempts))
    assert store.appended == ["meta0", "meta2", "meta4"]
    assert (tally.kept, tally.attempts) == (3, 5)
    assert len(served) == 5  # the sixth attempt is never asked for
    assert seen == [1, 2, 3, 4, 5]
    assert tally.dropped_summary() == "missed 2"


def test_the_loop_gives_up_after_its_attempt_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    _scripted([_dropped(i, "no grasp") for i in range(100)], monkeypatch)
    tally = collect_into(_Store([]), CollectJob(), 2)
    assert tally.attempts == max_attempts(2) == 20
    assert tally.kept == 0 and tally.dropped == {"no grasp": 20}


def test_a_callers_tally_holds_what_was_kept_when_the_run_is_interrupted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def iter_demos(job: CollectJob, indices: Iterator[int], workers: int) -> Iterator[Demo]:
        yield _kept(0)
        raise KeyboardInterrupt

    monkeypatch.setattr(collection, "iter_demos", iter_demos)
    tally, store = CollectionTally(), _Store([])
    with pytest.raises(KeyboardInterrupt):
        collect_into(store, CollectJob(), 5, tally=tally)
    assert tally.kept == 1 and store.appended == ["meta0"]


def test_rollout_statistics_count_kept_episodes_only() -> None:
    tally = CollectionTally()
    for demo in (_kept(0), _kept(1, success=False, reopens=2), _dropped(2, "scene did not fit")):
        tally.add(demo)
    rollouts = tally.rollouts
    assert (rollouts.episodes, rollouts.grasped, rollouts.reopening) == (2, 1, 1)
    assert rollouts.summary() == (
        "rollouts: 1/2 grasped; expert drove 40% of ticks; 1 episodes whose labels re-open the hand; "
        "failures: dropped 1"
    )
