"""The long-horizon suite: scene selection, metrics from log events, graded planner answers, a real run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must precede MuJoCo's GL setup

from dexagent.agent.episode_log import EpisodeLog
from dexagent.agent.evaluation import EvalConfig, get_suite, iter_records, plan_tasks
from dexagent.agent.evaluation.long_horizon import (
    PROMPTS,
    GradedPlanner,
    candidate_scenes,
    prompt_for,
    relevant_objects,
    select_scene,
)
from dexagent.agent.evaluation.long_horizon_metrics import (
    RATES,
    MetricsError,
    episode_metrics,
    summarise_prompt,
)
from dexagent.agent.planner.scene_backend import ScenePlanner
from dexagent.cli.app import app
from dexagent.hardware import Box, Observation
from dexagent.hardware.sim.scene_spec import CameraSizes
from dexagent.skills.planning import Instruction, Plan, Verdict


def _placements(prompt: str, seed: int) -> list[tuple[str, float, float]]:
    scene = next(candidate_scenes(prompt, seed))
    return [(p.spec.name, p.x, p.y) for p in scene.objects]


@pytest.mark.parametrize("prompt", PROMPTS[1:])
def test_grasp_all_scenes_have_three_or_four_objects_of_which_exactly_two_match(prompt: str) -> None:
    sizes = set()
    for seed in range(12):
        scene = next(candidate_scenes(prompt, seed))
        assert scene.split == "unseen-objects"
        assert len(relevant_objects(prompt, scene)) == 2
        sizes.add(len(scene.objects))
    assert sizes == {3, 4}


def test_clear_the_table_scenes_have_three_objects_all_relevant() -> None:
    for seed in range(6):
        scene = next(candidate_scenes("clear the table", seed))
        assert len(scene.objects) == 3
        assert relevant_objects("clear the table", scene) == [0, 1, 2]


def test_scene_selection_is_a_function_of_the_seed() -> None:
    for prompt in PROMPTS:
        assert _placements(prompt, 41) == _placements(prompt, 41)
    assert _placements("grasp all bottles", 41) != _placements("grasp all bottles", 42)


def test_prompts_go_round_robin_so_any_count_splits_evenly() -> None:
    assert [prompt_for(i) for i in range(8)] == [*PROMPTS, *PROMPTS]


def _event(name: str, **fields: Any) -> dict[str, Any]:
    return {"event": name, "tick": 0, "t": 0.0, "wall": 0.0, **fields}


def _objects(*rows: tuple[str, bool, bool, bool]) -> list[dict[str, Any]]:
    return [
        {"name": name, "relevant": relevant, "grasped": grasped, "on_table": on_table, "in_bin": not on_table}
        for name, relevant, grasped, on_table in rows
    ]


def _synthetic_episode(final_objects: list[dict[str, Any]], completed: bool = True) -> list[dict[str, Any]]:
    """Two bottles asked for; one wrong proposal, one bad box, a failed grasp then a retry, a wrong check."""
    return [
        _event("eval_proposal", target="the blue bottle", correct=True),
        _event("eval_proposal", target="the red apple", correct=False),  # not a bottle
        _event("eval_ground", target="the blue bottle", iou=0.2, correct=False),  # bad box
        _event("grounded", target="the blue bottle"),
        _event("skill_end", skill="grasp", status="FAILURE", reason="grasp: timeout after 15.0 s"),
        _event("eval_ground", target="the blue bottle", iou=0.9, correct=True),
        _event("grounded", target="the blue bottle"),
        _event("skill_end", skill="grasp", status="SUCCESS", reason="lifted and held"),
        _event("skill_end", skill="reset", status="SUCCESS", reason=""),
        _event("eval_ground", target="the green bottle", iou=1.0, correct=True),
        _event("grounded", target="the green bottle"),
        _event("skill_end", skill="grasp", status="SUCCESS", reason="lifted and held"),
        _event("eval_completion", verdict=True, truth=False, correct=False),  # said done too early
        _event("eval_completion", verdict=True, truth=True, correct=True),
        _event("run_end", completed=completed, reason="done", attempts=3, successful_attempts=2),
        _event("eval_final", objects=final_objects),
    ]


def test_each_metric_counts_its_own_events_and_can_fail() -> None:
    final = _objects(
        ("blue_bottle", True, True, False),
        ("green_bottle", True, True, False),
        ("red_apple", False, False, True),
    )
    metrics = episode_metrics(_synthetic_episode(final))
    assert metrics.task_success and metrics.failure is None
    assert (metrics.proposals, metrics.proposals_correct) == (2, 1)
    assert (metrics.boxes, metrics.boxes_correct) == (3, 2)
    assert (metrics.attempts, metrics.successful_attempts) == (3, 2)
    assert (metrics.checks, metrics.checks_correct) == (2, 1)
    assert metrics.relevant == 2


def test_pooled_rates_over_episodes() -> None:
    from dexagent.agent.evaluation.runner import EpisodeRecord

    final = _objects(("blue_bottle", True, True, False), ("green_bottle", True, True, False))
    metrics = episode_metrics(_synthetic_episode(final))
    record = EpisodeRecord(0, 1, "unseen-objects", "", (), True, None, 3, 10, 1.0, None, metrics.counts())
    summary = summarise_prompt("grasp all bottles", [record, record])
    assert summary.task_success == 1.0
    assert summary.attempts_per_grasp == pytest.approx(1.5)
    assert summary.proposal_accuracy == pytest.approx(0.5)
    assert summary.box_accuracy == pytest.approx(2 / 3)
    assert summary.grasp_success == pytest.approx(2 / 3)
    assert summary.completion_accuracy == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("final", "completed", "why"),
    [
        (_objects(("a", True, True, False), ("b", True, False, True)), True, "left on the table: b"),
        (_objects(("a", True, True, False), ("b", True, True, True)), True, "left on the table: b"),
        (_objects(("a", True, True, False), ("b", True, False, False)), True, "knocked off): b"),
        (_objects(("a", True, True, False), ("c", False, True, False)), True, "did not ask for: c"),
        (_objects(("a", True, True, False), ("c", False, False, False)), True, "did not ask for: c"),
        (_objects(("a", True, True, False)), False, "not completed"),
    ],
)
def test_task_fails_when_an_object_is_left_another_is_taken_or_done_is_not_declared(
    final: list[dict[str, Any]], completed: bool, why: str
) -> None:
    metrics = episode_metrics(_synthetic_episode(final, completed=completed))
    assert not metrics.task_success
    assert metrics.failure is not None and why in metrics.failure


def test_a_log_without_its_end_events_is_an_error_naming_the_event() -> None:
    events = _synthetic_episode(_objects(("a", True, True, False)))
    with pytest.raises(MetricsError, match="eval_final"):
        episode_metrics([e for e in events if e["event"] != "eval_final"])
    with pytest.raises(MetricsError, match="run_end"):
        episode_metrics([e for e in events if e["event"] != "run_end"])


class _MisleadingPlanner(ScenePlanner):
    """A scene planner that also proposes an object the prompt does not ask for and shifts its boxes."""

    def propose(self, prompt: str, observation: Observation, history: Any) -> Plan:
        plan = super().propose(prompt, observation, history)
        wrong = next(o for o in self.robot.objects if not self._query(prompt).matches(o))
        return Plan(instructions=(*plan.instructions, self.instruction_for(wrong)), reasoning="")

    def ground(self, instruction: Instruction, observation: Observation) -> Box:
        box = super().ground(instruction, observation)
        return Box(box.x1 + box.width, box.y1, box.x2 + box.width, box.y2)  # beside the object

    def is_complete(self, prompt: str, first: Observation, observation: Observation) -> Verdict:
        return Verdict(ok=True, reasoning="looks done")


def test_graded_planner_marks_wrong_proposals_boxes_and_checks_against_the_sim() -> None:
    prompt = "grasp all bottles"
    sim = select_scene(prompt, 5, CameraSizes(64, 64))
    with sim:
        log = EpisodeLog(None)
        graded = GradedPlanner(_MisleadingPlanner(sim), sim, prompt, log)
        observation = sim.observe()
        plan = graded.propose(prompt, observation, ())
        for instruction in plan.instructions:
            graded.ground(instruction, observation)
        honest = GradedPlanner(ScenePlanner(sim), sim, prompt, log)
        honest.ground(plan.instructions[0], observation)
        graded.is_complete(prompt, observation, observation)
    proposals = [e["correct"] for e in log.events if e["event"] == "eval_proposal"]
    boxes = [e for e in log.events if e["event"] == "eval_ground"]
    checks = [e for e in log.events if e["event"] == "eval_completion"]
    assert proposals == [True, True, False]
    assert [b["correct"] for b in boxes] == [False, False, False, True]
    assert boxes[-1]["iou"] == 1.0 and boxes[0]["iou"] < 0.5
    assert [(c["verdict"], c["truth"], c["correct"]) for c in checks] == [(True, False, False)]


@pytest.mark.slow
def test_cli_runs_one_episode_per_prompt_with_metrics_from_real_events(tmp_path: Path) -> None:
    out = tmp_path / "lh.json"
    args = ["eval", "--suite", "long-horizon", "--episodes", "4", "--seed", "3", "--image-size", "64"]
    result = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "grasp all green objects" in result.output and "all prompts" in result.output
    report = json.loads(out.read_text())
    assert report["controller"] == "scripted"  # the suite's default until a checkpoint ships
    records = report["records"]
    assert [r["extra"]["prompt"] for r in records] == list(PROMPTS)
    for record in records:
        extra = record["extra"]
        assert extra["relevant"] == (3 if extra["prompt"] == "clear the table" else 2)
        assert extra["proposals"] >= extra["relevant"] and extra["boxes"] >= 1 and extra["checks"] >= 1
        assert (
            extra["attempts"]
            >= extra["successful_attempts"]
            >= (extra["relevant"] if record["success"] else 0)
        )
    for figures in report["prompts"].values():
        for rate in RATES:
            value = figures[rate]
            assert value is not None and value >= 0.0
            assert rate == "attempts_per_grasp" or value <= 1.0
        assert figures["attempts_per_grasp"] >= 1.0 or figures["task_success"] < 1.0
    # Two workers reproduce the first two episodes exactly.
    config = EvalConfig(
        suite=get_suite("long-horizon"), controller="scripted", episodes=2, seed=3, image_size=64
    )
    parallel = list(iter_records(plan_tasks(config), workers=2))
    for record, again in zip(records[:2], parallel, strict=True):
        assert (again.scene_seed, again.success, again.steps, dict(again.extra)) == (
            record["scene_seed"],
            record["success"],
            record["steps"],
            record["extra"],
        )
