"""Evaluation reports: success@k, per-split rows, the JSON fields."""

from __future__ import annotations

import json
from dataclasses import replace

from rich.console import Console

from dexagent.agent.evaluation import (
    EpisodeRecord,
    EvalConfig,
    get_suite,
    report_json,
    results_table,
    summarise,
)
from dexagent.controller.cadence import Cadence


def record(
    index: int, split: str, attempt: int | None, steps: int, reason: str | None = None
) -> EpisodeRecord:
    return EpisodeRecord(
        index=index,
        scene_seed=1000 + index,
        split=split,
        target_name="red_apple",
        target_tags=("apple", "food", "red"),
        success=attempt is not None,
        success_attempt=attempt,
        attempts_used=attempt or 3,
        steps=steps,
        wall_seconds=1.5,
        failure_reason=None if attempt else reason,
    )


RECORDS = [
    record(0, "unseen-objects", 1, 100),
    record(1, "unseen-objects", 2, 300),
    record(2, "unseen-backgrounds", None, 720, "timeout"),
    record(3, "unseen-lighting", 3, 500),
]
CONFIG = EvalConfig(suite=get_suite("generalization"), controller="scripted", episodes=4, seed=7, attempts=3)


def test_success_at_k_counts_successes_within_k_attempts() -> None:
    summary = summarise("all", RECORDS, attempts=3)
    assert summary.success_at_k == (0.25, 0.5, 0.75)
    assert summary.successes == 3 and summary.success_rate == 0.75
    assert summary.mean_steps == 300  # over the successful episodes only


def test_json_report_has_the_headline_figures_and_one_record_per_episode() -> None:
    report = json.loads(json.dumps(report_json(CONFIG, RECORDS)))
    assert report["suite"] == "generalization" and report["controller"] == "scripted"
    assert (report["episodes"], report["successes"], report["success_rate"]) == (4, 3, 0.75)
    assert report["seed"] == 7 and report["attempts"] == 3
    assert report["success_at_k"] == [0.25, 0.5, 0.75]
    assert report["failures"] == {"timeout": 1}
    assert report["splits"]["unseen-backgrounds"]["success_rate"] == 0.0
    assert len(report["records"]) == 4
    assert report["records"][2]["failure_reason"] == "timeout"
    assert report["records"][0]["target_tags"] == ["apple", "food", "red"]


def test_table_has_a_row_per_split_and_the_aggregate() -> None:
    console = Console(record=True, width=140)
    console.print(results_table(CONFIG, RECORDS))
    text = console.export_text()
    for row in ("unseen-objects", "unseen-backgrounds", "unseen-lighting", "generalization"):
        assert row in text
    assert "@3" in text and "75.0%" in text and "timeout 1" in text


def _cadence(ticks: int, wall_s: float, slow: int, infer_ms: float) -> Cadence:
    cadence = Cadence(20.0, ticks=ticks, wall_s=wall_s, slow_ticks=slow, starved_ticks=1)
    cadence.add("infer", infer_ms / 1000)
    return cadence


def test_realtime_episodes_report_one_cadence_merged_over_the_episodes() -> None:
    realtime = EvalConfig(suite=get_suite("generalization"), controller="x", episodes=2, realtime=True)
    records = [
        replace(RECORDS[0], cadence=_cadence(100, 5.0, 1, 60.0)),
        replace(RECORDS[1], cadence=_cadence(300, 15.0, 2, 80.0)),
    ]
    report = json.loads(json.dumps(report_json(realtime, records)))
    assert report["cadence"]["ticks"] == 400 and report["cadence"]["achieved_hz"] == 20.0
    assert (report["cadence"]["slow_ticks"], report["cadence"]["starved_ticks"]) == (3, 2)
    assert report["cadence"]["stages_ms"]["infer"] == {
        "count": 2, "mean": 70.0, "p50": 60.0, "p95": 80.0, "worst": 80.0
    }  # fmt: skip
    assert report["records"][1]["cadence"]["ticks"] == 300
    console = Console(record=True, width=140)
    console.print(results_table(realtime, records))
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert lines[-3:] == [  # under the table, each line whole
        "cadence over all episodes:",
        "20.0 Hz achieved (target 20) over 400 ticks, 3 slow ticks, 2 starved ticks",
        "  infer  mean   70.0  p50   60.0  p95   80.0  worst   80.0 ms  (n=2)",
    ]
    # In the tick (not --realtime) time is not a result: no cadence anywhere.
    in_the_tick = report_json(CONFIG, RECORDS)
    assert "cadence" not in in_the_tick and "cadence" not in in_the_tick["records"][0]
