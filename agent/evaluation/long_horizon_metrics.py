"""Long-horizon metrics (the paper's Table 1b) from an episode log, per prompt and overall.

One episode's figures come only from its events: `run_end` (did the run declare completion),
`grounded` and `skill_end` (controller attempts and their outcomes), and the `eval_*` events
`GradedPlanner` writes (every proposal, box and completion check with its ground truth, and
where each object ended up).
Rates over several episodes pool the counts (e.g. box accuracy = correct boxes / boxes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.table import Table

from dexagent.controller.skill_spec import CONTROLLED_SKILLS

if TYPE_CHECKING:
    from dexagent.agent.evaluation.runner import EpisodeRecord, EvalConfig

# The per-episode counts stored in `EpisodeRecord.extra` (and the JSON report).
COUNTS = (
    "relevant",
    "attempts",
    "successful_attempts",
    "proposals",
    "proposals_correct",
    "boxes",
    "boxes_correct",
    "checks",
    "checks_correct",
)
RATES = (
    "task_success",
    "attempts_per_grasp",
    "proposal_accuracy",
    "box_accuracy",
    "grasp_success",
    "completion_accuracy",
)


class MetricsError(ValueError):
    """An episode log lacks the events the metrics need."""


@dataclass(frozen=True)
class EpisodeMetrics:
    """Counts of one episode; rates come from pooling them (see `PromptSummary`)."""

    completed: bool  # the run ended with completion declared
    task_success: bool  # completed, every relevant object grasped and off the table, nothing else
    relevant: int
    attempts: int
    successful_attempts: int
    proposals: int
    proposals_correct: int
    boxes: int
    boxes_correct: int
    checks: int
    checks_correct: int
    failure: str | None  # why the task failed, in words

    def counts(self) -> dict[str, float | str]:
        return {name: getattr(self, name) for name in COUNTS}


def _only(events: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any]:
    found = [e for e in events if e.get("event") == name]
    if len(found) != 1:
        raise MetricsError(f"the episode log has {len(found)} {name!r} events; expected exactly one")
    return found[0]


def _graded(events: Sequence[Mapping[str, Any]], name: str) -> tuple[int, int]:
    marks = [bool(e["correct"]) for e in events if e.get("event") == name]
    return len(marks), sum(marks)


def episode_metrics(events: Sequence[Mapping[str, Any]]) -> EpisodeMetrics:
    """The metrics of one episode from its log events (MetricsError when run_end or eval_final is missing).

    Task success: completion declared, every relevant object grasped and off the table (in the bin,
    or dropped beside it), no other object grasped or off the table.
    """
    end, final = _only(events, "run_end"), _only(events, "eval_final")
    objects = list(final["objects"])
    left = [o["name"] for o in objects if o["relevant"] and o["on_table"]]
    lost = [o["name"] for o in objects if o["relevant"] and not o["grasped"] and not o["on_table"]]
    disturbed = [o["name"] for o in objects if not o["relevant"] and (o["grasped"] or not o["on_table"])]
    completed = bool(end["completed"])
    failure = None
    if not completed:
        failure = f"not completed: {end.get('reason', '')}"
    elif left:
        failure = "declared complete but left on the table: " + ", ".join(left)
    elif lost:
        failure = "off the table without a grasp (knocked off): " + ", ".join(lost)
    elif disturbed:
        failure = "took or knocked off objects the prompt did not ask for: " + ", ".join(disturbed)
    # A controller attempt starts with a grounded box; an attempt whose grounding failed never ran it.
    attempts = sum(1 for e in events if e.get("event") == "grounded")
    successful_attempts = sum(
        1
        for e in events
        if e.get("event") == "skill_end"
        and e.get("skill") in CONTROLLED_SKILLS
        and e.get("status") == "SUCCESS"
    )
    proposals, proposals_correct = _graded(events, "eval_proposal")
    boxes, boxes_correct = _graded(events, "eval_ground")
    checks, checks_correct = _graded(events, "eval_completion")
    return EpisodeMetrics(
        completed=completed,
        task_success=completed and not left and not lost and not disturbed,
        relevant=sum(1 for o in objects if o["relevant"]),
        attempts=attempts,
        successful_attempts=successful_attempts,
        proposals=proposals,
        proposals_correct=proposals_correct,
        boxes=boxes,
        boxes_correct=boxes_correct,
        checks=checks,
        checks_correct=checks_correct,
        failure=failure,
    )


def _rate(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class PromptSummary:
    """Table 1b figures over a group of episodes (one prompt, or all of them)."""

    name: str
    episodes: int
    successes: int
    totals: dict[str, float]  # COUNTS summed over the episodes

    @property
    def task_success(self) -> float | None:
        return _rate(self.successes, self.episodes)

    @property
    def attempts_per_grasp(self) -> float | None:
        return _rate(self.totals["attempts"], self.totals["relevant"])

    @property
    def proposal_accuracy(self) -> float | None:
        return _rate(self.totals["proposals_correct"], self.totals["proposals"])

    @property
    def box_accuracy(self) -> float | None:
        return _rate(self.totals["boxes_correct"], self.totals["boxes"])

    @property
    def grasp_success(self) -> float | None:
        return _rate(self.totals["successful_attempts"], self.totals["attempts"])

    @property
    def completion_accuracy(self) -> float | None:
        return _rate(self.totals["checks_correct"], self.totals["checks"])

    def as_dict(self) -> dict[str, Any]:
        figures = {rate: getattr(self, rate) for rate in RATES}
        return {"episodes": self.episodes, "successes": self.successes, **figures}


def summarise_prompt(name: str, records: Sequence[EpisodeRecord]) -> PromptSummary:
    totals = {count: float(sum(float(r.extra[count]) for r in records)) for count in COUNTS}
    return PromptSummary(name, len(records), sum(r.success for r in records), totals)


def prompt_summaries(records: Sequence[EpisodeRecord]) -> list[PromptSummary]:
    """One summary per prompt (in the order prompts first appear), then the aggregate."""
    prompts = list(dict.fromkeys(str(r.extra["prompt"]) for r in records))
    rows = [summarise_prompt(p, [r for r in records if r.extra["prompt"] == p]) for p in prompts]
    return [*rows, summarise_prompt("all prompts", records)]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"  # whole percents: the table fits 80 columns


def long_horizon_report(config: EvalConfig, records: list[EpisodeRecord]) -> tuple[Table, dict[str, Any]]:
    """The rich table like the paper's Table 1b, and the per-prompt figures for the JSON report."""
    table = Table(
        title=f"{config.suite.name} | {config.controller} | scene planner | seed {config.seed}",
        title_justify="left",
    )
    for header in ("prompt", "eps", "task", "att", "prop", "box", "grasp", "check"):
        table.add_column(header, justify="left" if header == "prompt" else "right", no_wrap=True)
    summaries = prompt_summaries(records)
    for position, s in enumerate(summaries):
        aggregate = position == len(summaries) - 1
        apg = "-" if s.attempts_per_grasp is None else f"{s.attempts_per_grasp:.2f}"
        name = f"[bold]{s.name}[/]" if aggregate else s.name
        cells = [name, str(s.episodes), _percent(s.task_success), apg]
        cells += [_percent(v) for v in (s.proposal_accuracy, s.box_accuracy, s.grasp_success)]
        cells.append(_percent(s.completion_accuracy))
        table.add_row(*cells, end_section=position == len(summaries) - 2)
    notes = [  # each line fits the table's width
        "task: asked-for objects taken away, nothing else, done declared",
        "att: grasp attempts per asked-for object",
        "prop: instructions naming an asked-for object still on the table",
        "box: IoU >= 0.5 with the true box; grasp: successful attempts",
        "check: completion checks whose verdict was right",
    ]
    failures = [r.failure_reason for r in records if not r.success and r.failure_reason]
    if failures:
        notes += [f"failure: {reason}" for reason in sorted(set(failures))]
    table.caption, table.caption_justify = "\n".join(notes), "left"
    return table, {"prompts": {s.name: s.as_dict() for s in summaries}}
