"""Evaluation results: success@k per split, a table like the paper's Table 1, and the JSON report."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Any

from rich.table import Table

from dexagent.agent.evaluation.runner import EpisodeRecord, EvalConfig
from dexagent.controller.cadence import Cadence, merge_cadences


@dataclass(frozen=True)
class Summary:
    """Aggregate figures over a group of episodes (one split, or the whole suite)."""

    name: str
    episodes: int
    successes: int
    success_at_k: tuple[float, ...]  # fraction succeeded within 1, 2, ..., K attempts (paper's Ours@k)
    mean_steps: float | None  # ticks to success, over successful episodes
    mean_wall_seconds: float

    @property
    def success_rate(self) -> float:
        return self.successes / self.episodes if self.episodes else 0.0


def summarise(name: str, records: list[EpisodeRecord], attempts: int) -> Summary:
    """Summary of `records`; success@k counts episodes whose success came at attempt <= k."""
    episodes = len(records)
    at_k = tuple(
        sum(1 for r in records if r.success_attempt is not None and r.success_attempt <= k) / episodes
        if episodes
        else 0.0
        for k in range(1, attempts + 1)
    )
    succeeded = [r.steps for r in records if r.success]
    return Summary(
        name=name,
        episodes=episodes,
        successes=sum(r.success for r in records),
        success_at_k=at_k,
        mean_steps=sum(succeeded) / len(succeeded) if succeeded else None,
        mean_wall_seconds=sum(r.wall_seconds for r in records) / episodes if episodes else 0.0,
    )


def split_summaries(config: EvalConfig, records: list[EpisodeRecord]) -> list[Summary]:
    """One summary per split of the suite (in suite order), then the suite's aggregate."""
    rows = []
    splits = [split for split, _ in config.suite.splits]
    if len(splits) > 1:
        for split in splits:
            rows.append(summarise(split, [r for r in records if r.split == split], config.attempts))
    rows.append(summarise(config.suite.name, records, config.attempts))
    return rows


def results_table(config: EvalConfig, records: list[EpisodeRecord]) -> Table:
    """A rich table: rows per split and the suite aggregate; columns success@1..K, steps, wall time."""
    table = Table(
        title=f"{config.suite.name} | {config.controller} | {config.suite.skill} | seed {config.seed}"
        + (" | realtime 20 Hz" if config.realtime else ""),
        title_justify="left",
    )
    table.add_column("suite / split", no_wrap=True)
    table.add_column("episodes", justify="right", no_wrap=True)
    table.add_column("success", justify="right")
    if config.attempts > 1:
        for k in range(1, config.attempts + 1):
            table.add_column(f"@{k}", justify="right")
    table.add_column("steps", justify="right")  # mean ticks to success
    table.add_column("s/ep", justify="right")  # wall seconds per episode
    summaries = split_summaries(config, records)
    for position, summary in enumerate(summaries):
        aggregate = position == len(summaries) - 1
        empty = summary.episodes == 0  # a split too small to get an episode of a short run
        cells = [
            f"[bold]{summary.name}[/]" if aggregate and len(summaries) > 1 else summary.name,
            str(summary.episodes),
            "-" if empty else f"{summary.success_rate:.1%}",
        ]
        if config.attempts > 1:
            cells += ["-" if empty else f"{rate:.1%}" for rate in summary.success_at_k]
        cells += [
            "-" if summary.mean_steps is None else f"{summary.mean_steps:.0f}",
            "-" if empty else f"{summary.mean_wall_seconds:.1f}",
        ]
        table.add_row(*cells, end_section=position == len(summaries) - 2)  # rule above the aggregate
    notes = ["steps: mean 20 Hz ticks to success; s/ep: wall seconds per episode"]
    failures = failure_counts(records)
    if failures:
        notes.append("failures: " + ", ".join(f"{reason} {count}" for reason, count in failures.items()))
    cadence = eval_cadence(records)
    if cadence is not None:
        text = cadence.render()
        notes += ["cadence over all episodes:", text]
        table.min_width = max(len(line) for line in text.splitlines()) + 4  # unwrapped, under the table
    table.caption = "\n".join(notes)
    table.caption_justify = "left"
    return table


def eval_cadence(records: list[EpisodeRecord]) -> Cadence | None:
    """The cadence of every episode's ticks as one report (--realtime runs; None otherwise)."""
    cadences = [r.cadence for r in records if r.cadence is not None]
    return merge_cadences(cadences) if cadences else None


def _record_json(record: EpisodeRecord) -> dict[str, Any]:
    row = {**asdict(replace(record, cadence=None)), "target_tags": list(record.target_tags)}
    del row["cadence"]
    if record.cadence is not None:
        row["cadence"] = record.cadence.as_dict()
    return row


def failure_counts(records: list[EpisodeRecord]) -> dict[str, int]:
    counts = Counter(r.failure_reason for r in records if not r.success and r.failure_reason)
    return dict(counts.most_common())


def report_json(config: EvalConfig, records: list[EpisodeRecord]) -> dict[str, Any]:
    """The JSON report: the headline figures, per-split summaries and one record per episode."""
    overall = summarise(config.suite.name, records, config.attempts)
    by_split = {
        summary.name: {
            "episodes": summary.episodes,
            "successes": summary.successes,
            "success_rate": summary.success_rate,
            "success_at_k": list(summary.success_at_k),
        }
        for summary in split_summaries(config, records)[:-1]
    }
    report: dict[str, Any] = {
        "suite": config.suite.name,
        "controller": config.controller,
        "skill": config.suite.skill,
        "episodes": overall.episodes,
        "successes": overall.successes,
        "success_rate": overall.success_rate,
        "seed": config.seed,
        "attempts": config.attempts,
        "success_at_k": list(overall.success_at_k),
        "image_size": config.image_size,
        "wrist_size": config.wrist_size or config.image_size,
        "realtime": config.realtime,
        "precision": config.precision,
        "mean_steps": overall.mean_steps,
        "failures": failure_counts(records),
        "splits": by_split,
        "records": [_record_json(r) for r in records],
    }
    cadence = eval_cadence(records)
    if cadence is not None:
        report["cadence"] = cadence.as_dict()
    return report
