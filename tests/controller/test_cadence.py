"""The one paced loop and its cadence report, on a fake clock: no test here waits on real time."""

from __future__ import annotations

import pickle

import pytest

from dexagent.controller.cadence import (
    Cadence,
    CadenceMergeError,
    Pacer,
    StageStats,
    merge_cadences,
    render_cadence,
)


class FakeTime:
    """A clock that moves only when the loop works (`advance`) or sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _run(works: list[float], *, paced: bool = True, hz: float = 20.0) -> tuple[Pacer, FakeTime]:
    """A loop whose ticks take `works` seconds each (observe a tenth, act the rest)."""
    fake = FakeTime()
    pacer = Pacer(hz, paced=paced, clock=fake.clock, sleep=fake.sleep)
    pacer.start()
    for work in works:
        pacer.wait()
        with pacer.cadence.stage("observe"):
            fake.advance(work / 10)
        pacer.cadence.add("act", work - work / 10)
        fake.advance(work - work / 10)
        pacer.tick_done()
    return pacer, fake


def test_a_paced_loop_sleeps_to_each_period_boundary_and_achieves_the_target() -> None:
    pacer, fake = _run([0.01, 0.02, 0.03])
    assert fake.slept == pytest.approx([0.04, 0.03])  # the third tick's period ends with the loop
    cadence = pacer.cadence
    assert (cadence.ticks, cadence.slow_ticks, cadence.starved_ticks) == (3, 0, 0)
    assert cadence.wall_s == pytest.approx(0.15) and cadence.achieved_hz == pytest.approx(20.0)
    assert cadence.stages["tick"].samples.tolist() == pytest.approx([0.01, 0.02, 0.03])
    assert cadence.stages["observe"].samples.tolist() == pytest.approx([0.001, 0.002, 0.003])


def test_a_slow_tick_is_counted_and_the_next_period_starts_at_once_without_a_burst() -> None:
    pacer, fake = _run([0.01, 0.08, 0.01, 0.01])
    # After the 80 ms tick the loop starts the next period at once and then keeps the full period:
    # it never shortens later ticks to catch up (which would hand the robot steps in a burst).
    assert fake.slept == pytest.approx([0.04, 0.04])  # before ticks 2 and 4; none before tick 3
    cadence = pacer.cadence
    assert (cadence.ticks, cadence.slow_ticks) == (4, 1)
    assert cadence.wall_s == pytest.approx(0.05 + 0.08 + 0.05 + 0.05)
    assert cadence.achieved_hz == pytest.approx(4 / 0.23)


def test_a_tick_exactly_one_period_long_is_not_slow() -> None:
    fake = FakeTime()
    pacer = Pacer(4.0, clock=fake.clock, sleep=fake.sleep)  # 0.25 s: exact in binary
    pacer.start()
    for _ in range(2):
        pacer.wait()
        fake.advance(0.25)
        assert pacer.tick_done() is False
    assert pacer.cadence.slow_ticks == 0 and fake.slept == [] and pacer.cadence.achieved_hz == 4.0
    fake.advance(0.25 + 1e-9)
    assert pacer.tick_done() is True


def test_an_unpaced_loop_never_sleeps_and_still_counts_ticks_that_overran_a_period() -> None:
    pacer, fake = _run([0.01, 0.06, 0.02], paced=False)
    assert fake.slept == []
    cadence = pacer.cadence
    assert (cadence.ticks, cadence.slow_ticks) == (3, 1)
    assert cadence.wall_s == pytest.approx(0.09) and cadence.achieved_hz == pytest.approx(3 / 0.09)
    assert cadence.render().startswith("33.3 ticks/s unpaced (target 20) over 3 ticks, 1 slow tick,")


def test_the_pacer_refuses_a_tick_before_start_and_a_rate_that_is_not_positive() -> None:
    fake = FakeTime()
    with pytest.raises(RuntimeError, match="before Pacer.start"):
        Pacer(20.0, clock=fake.clock, sleep=fake.sleep).tick_done()
    with pytest.raises(ValueError, match="positive"):
        Pacer(0.0)


def test_the_live_rate_is_over_the_recent_ticks_and_the_report_over_the_whole_loop() -> None:
    pacer, _ = _run([0.1] * 40 + [0.01] * 40)  # 40 slow ticks at 10 Hz, then 40 on time at 20 Hz
    cadence = pacer.cadence
    assert cadence.achieved_hz == pytest.approx(80 / 6.0)
    assert cadence.recent_hz == pytest.approx(20.0)
    assert cadence.line().startswith("20.0 Hz achieved (target 20) over 80 ticks, 40 slow ticks")
    assert cadence.as_dict()["achieved_hz"] == 13.33


def test_stage_stats_give_count_mean_nearest_rank_percentiles_and_worst() -> None:
    stats = StageStats()
    for ms in (5, 1, 4, 2, 3):
        stats.add(ms / 1000)
    assert stats.count == 5 and stats.mean_s == pytest.approx(0.003) and stats.worst_s == 0.005
    assert stats.p50_s == 0.003 and stats.p95_s == 0.005  # measured values, never interpolated
    assert stats.as_ms() == {"count": 5, "mean": 3.0, "p50": 3.0, "p95": 5.0, "worst": 5.0}
    twenty = StageStats()
    for ms in range(20, 0, -1):
        twenty.add(ms / 1000)
    assert (twenty.p50_s, twenty.p95_s, twenty.percentile_s(100)) == (0.010, 0.019, 0.020)
    assert StageStats().as_ms() == {"count": 0, "mean": 0.0, "p50": 0.0, "p95": 0.0, "worst": 0.0}


def test_merged_stage_stats_pool_the_samples() -> None:
    fast, slow = StageStats(), StageStats()
    for _ in range(19):
        fast.add(0.001)
    slow.add(0.100)
    fast.merge(slow)
    assert fast.count == 20 and fast.worst_s == 0.1 and fast.p95_s == 0.001
    assert fast.mean_s == pytest.approx((19 * 0.001 + 0.1) / 20)


def test_merged_reports_add_ticks_and_pool_stages_and_rate_is_ticks_over_wall_time() -> None:
    first, _ = _run([0.01] * 10)  # 10 ticks at 20 Hz: 0.5 s
    second, _ = _run([0.01] * 5 + [0.1] * 5)  # 5 on time, 5 slow: 0.25 + 0.5 s
    first.cadence.starved_ticks, second.cadence.starved_ticks = 1, 2
    merged = merge_cadences([first.cadence, second.cadence])
    assert (merged.ticks, merged.slow_ticks, merged.starved_ticks) == (20, 5, 3)
    assert merged.wall_s == pytest.approx(1.25) and merged.achieved_hz == pytest.approx(16.0)
    assert merged.stages["tick"].count == 20 and merged.stages["tick"].worst_s == pytest.approx(0.1)
    assert merged.stages["tick"].p50_s == pytest.approx(0.01)
    # The inputs are left as they were.
    assert first.cadence.ticks == 10 and first.cadence.stages["tick"].count == 10


def test_reports_of_different_loops_do_not_merge() -> None:
    with pytest.raises(CadenceMergeError, match="10 Hz paced loop into a 20 Hz paced"):
        merge_cadences([Cadence(20.0), Cadence(10.0)])
    with pytest.raises(CadenceMergeError, match="unpaced"):
        merge_cadences([Cadence(20.0), Cadence(20.0, paced=False)])
    with pytest.raises(CadenceMergeError, match="no cadence"):
        merge_cadences([])


class _TimedController:
    def __init__(self) -> None:
        self.stats = {"infer": StageStats(), "track": StageStats()}
        self.stats["infer"].add(0.2)
        self.stats["track"].add(0.001)
        self.starved_ticks = 2


def test_a_controller_that_times_itself_joins_the_report_and_others_add_nothing() -> None:
    cadence = Cadence(20.0)
    cadence.add("infer", 0.1)
    cadence.add_controller(_TimedController())
    cadence.add_controller(object())  # e.g. the scripted expert
    assert cadence.starved_ticks == 2
    assert cadence.stages["infer"].count == 2 and cadence.stages["infer"].worst_s == 0.2
    assert cadence.stages["track"].count == 1


def test_the_report_renders_one_way_in_full_and_on_one_line() -> None:
    report = {
        "target_hz": 20.0,
        "paced": True,
        "achieved_hz": 19.8,
        "ticks": 3,
        "slow_ticks": 1,
        "starved_ticks": 0,
        "stages_ms": {
            "observe": {"count": 3, "mean": 20.5, "p50": 20.0, "p95": 61.0, "worst": 61.0},
            "act": {"count": 3, "mean": 2.0, "p50": 2.0, "p95": 2.0, "worst": 2.0},
        },
    }
    assert render_cadence(report) == (
        "19.8 Hz achieved (target 20) over 3 ticks, 1 slow tick, 0 starved ticks\n"
        "  observe  mean   20.5  p50   20.0  p95   61.0  worst   61.0 ms  (n=3)\n"
        "  act      mean    2.0  p50    2.0  p95    2.0  worst    2.0 ms  (n=3)"
    )
    assert render_cadence(report, one_line=True) == (
        "19.8 Hz achieved (target 20) over 3 ticks, 1 slow tick, 0 starved ticks"
        " | observe 20.5/61.0 ms | act 2.0/2.0 ms"
    )


def test_a_report_survives_pickling_as_eval_workers_send_it() -> None:
    pacer = Pacer(20.0)
    pacer.start()
    with pacer.cadence.stage("observe"):
        pass
    pacer.tick_done()
    copy = pickle.loads(pickle.dumps(pacer.cadence))
    assert copy.as_dict() == pacer.cadence.as_dict()
