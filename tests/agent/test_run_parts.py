"""The run's parts: episode log, timed planner, live view and summary (the cadence: tests/controller)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import py_trees
import pytest
from py_trees.common import Status
from rich.console import Console

from dexagent.agent.episode_log import EpisodeLog, read_log, to_json
from dexagent.agent.live_view import LiveView, progress_line, scene_line, summary_table, text_snapshot
from dexagent.agent.runner import RunResult, RunState
from dexagent.agent.timed_planner import TimedPlanner
from dexagent.controller.cadence import Cadence
from dexagent.hardware import Box
from dexagent.skills.planning import Instruction, Plan, Verdict


def test_episode_log_writes_plain_json_lines_as_it_goes(tmp_path: Path) -> None:
    log = EpisodeLog(tmp_path / "logs" / "run.jsonl")
    log.tick, log.sim_time = 7, 0.35
    instruction = Instruction(target="the cup", text="grasp the cup")
    log.write("grounded", {"box": Box(1, 2, 3, 4), "state": np.float32([0.5, 1.0]), "plan": [instruction]})
    # Flushed before close: an interrupted (killed) run keeps every line written so far.
    (record,) = read_log(tmp_path / "logs" / "run.jsonl")
    log.close()
    assert record["event"] == "grounded" and record["tick"] == 7 and record["t"] == 0.35
    assert record["box"] == [1, 2, 3, 4] and record["state"] == [0.5, 1.0]
    assert record["plan"][0]["target"] == "the cup"
    json.dumps(to_json({"inf": float("inf"), "verdict": Verdict(ok=True)}))


class _Planner:
    def propose(self, prompt, observation, history):  # type: ignore[no-untyped-def]
        return Plan(instructions=())

    def ground(self, instruction, observation):  # type: ignore[no-untyped-def]
        raise LookupError("not in view")

    def verify_grasp(self, instruction, observation):  # type: ignore[no-untyped-def]
        return Verdict(ok=True)

    def is_complete(self, prompt, first, observation):  # type: ignore[no-untyped-def]
        return Verdict(ok=False)


def test_timed_planner_records_every_call_and_reraises_failures() -> None:
    events: list[tuple[str, dict]] = []
    planner = TimedPlanner(_Planner(), lambda name, fields: events.append((name, dict(fields))))
    planner.propose("clear the table", None, ())  # type: ignore[arg-type]
    planner.propose("clear the table", None, ())  # type: ignore[arg-type]
    with pytest.raises(LookupError):
        planner.ground(Instruction(target="cup", text="grasp cup"), None)  # type: ignore[arg-type]
    stats = planner.stats()
    assert stats["propose"]["calls"] == 2 and stats["propose"]["failed"] == 0
    assert stats["ground"]["failed"] == 1
    assert events[-1][1]["error"] == "LookupError: not in view"


def _tree() -> py_trees.behaviour.Behaviour:
    done = py_trees.behaviours.Success("plan")
    running = py_trees.behaviours.Running("grasp the cup")
    later = py_trees.behaviours.Success("reset")
    root = py_trees.composites.Sequence("clear the table", memory=True, children=[done, running, later])
    root.tick_once()
    return root


def test_live_view_shows_statuses_instruction_and_cadence() -> None:
    root = _tree()
    assert root.status == Status.RUNNING
    state = RunState(
        root=root,
        tick=42,
        sim_time=2.1,
        cadence=Cadence(20.0),
        tree_name="clear_table",
        instruction="grasp the cup",
        target="the cup",
        failure_reason="grasp: timeout after 15.0 s",
    )
    text = text_snapshot(state)
    assert (
        "● clear the table" in text and "✓ plan" in text and "● grasp the cup" in text and "○ reset" in text
    )
    assert "instruction: grasp the cup  target: the cup" in text
    assert "last failure: grasp: timeout after 15.0 s" in text
    assert "cadence: 0.0 Hz achieved (target 20) over 0 ticks, 0 slow ticks, 0 starved ticks" in text


def test_summary_table_reports_outcome_grasps_attempts_planner_and_time() -> None:
    result = RunResult(
        prompt="clear the table",
        completed=False,
        reason="time budget of 60 s spent before the prompt was done",
        interrupted=False,
        tree_name="clear_table",
        ticks=1200,
        sim_seconds=60.0,
        wall_seconds=58.2,
        grasped=["the cup", "the can"],
        put_away=["the cup"],
        attempts=3,
        successful_attempts=2,
        recoveries=1,
        planner={"propose": {"calls": 2, "failed": 0, "mean_s": 0.2, "worst_s": 0.3}},
        cadence={
            "target_hz": 20.0,
            "paced": True,
            "achieved_hz": 19.8,
            "ticks": 1200,
            "slow_ticks": 3,
            "starved_ticks": 2,
            "stages_ms": {"observe": {"count": 1200, "mean": 17.0, "p50": 16.5, "p95": 24.0, "worst": 26.1}},
        },
    )
    console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
    console.print(summary_table(result))
    text = console.export_text()
    for expected in (
        "not completed: time budget of 60 s spent",
        "2 (the cup, the can)",
        "3 (2 succeeded)",
        "recoveries used │ 1",
        "propose: 2 calls, mean 200.0 ms, worst 300.0 ms",
        "60.0 s sim, 58.2 s wall, 1200 ticks",
        "19.8 Hz achieved (target 20) over 1200 ticks, 3 slow ticks, 2 starved ticks",
    ):
        assert expected in text, expected
    assert re.search(r"stage \(ms\)\s+mean\s+p50\s+p95\s+worst\s+n\b", text)
    assert re.search(r"observe\s+17\.0\s+16\.5\s+24\.0\s+26\.1\s+1200\b", text)


def test_at_80_columns_the_summary_keeps_each_stage_and_object_name_on_one_line() -> None:
    stages = {
        name: {"count": 1200, "mean": 17.0, "p50": 16.5, "p95": 24.0, "worst": 326.1}
        for name in ("observe", "decide", "act", "view", "tick")
    }
    result = _result(reason="time budget of 60 s spent", cadence={**_result().cadence, "stages_ms": stages})
    console = Console(width=80, file=io.StringIO(), record=True, color_system=None)
    console.print(summary_table(result))
    console.print(scene_line(3, "seen", [f"object_number_{i}_with_a_long_name" for i in range(6)]))
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    for stage in stages:  # the whole row: name, four figures and the count, not wrapped in two
        assert any(re.search(rf"{stage}\s+17\.0\s+16\.5\s+24\.0\s+326\.1\s+1200\b", line) for line in lines)
    scene = lines[lines.index(next(line for line in lines if line.startswith("scene seed 3 (seen): "))) :]
    names = " ".join(scene).replace(",", " ").split()
    assert [n for n in names if n.startswith("object_")] == [
        f"object_number_{i}_with_a_long_name" for i in range(6)
    ]
    assert all(line.startswith(" " * len("scene seed 3 (seen): ")) for line in scene[1:])  # aligned


def test_a_finished_leaf_no_longer_shows_its_running_feedback() -> None:
    leaf = py_trees.behaviours.Success("grasp the cup")
    leaf.feedback_message = "controlling 3.1/15 s"  # what it said while it ran
    root = py_trees.composites.Sequence(
        "clear", memory=True, children=[leaf, py_trees.behaviours.Running("reset")]
    )
    root.tick_once()
    state = RunState(root=root, tick=1, sim_time=0.05, cadence=Cadence(20.0))
    text = text_snapshot(state)
    assert "✓ grasp the cup" in text and "controlling" not in text


def _result(**changes: object) -> RunResult:
    values: dict[str, object] = dict(
        prompt="grasp the [/x] can",
        completed=False,
        reason="[/nope] is not on the table \x1b[31m",
        interrupted=False,
        tree_name="my_tree.yaml",
        ticks=40,
        sim_seconds=2.0,
        wall_seconds=0.5,
        grasped=[],
        put_away=[],
        attempts=0,
        successful_attempts=0,
        recoveries=0,
        planner={"propose": {"calls": 1, "failed": 0, "mean_s": 0.1, "worst_s": 0.1}},
        cadence={
            "target_hz": 20.0,
            "paced": False,
            "achieved_hz": 80.0,
            "ticks": 40,
            "slow_ticks": 1,
            "starved_ticks": 0,
            "stages_ms": {},
        },
        controller="default",
        realtime=False,
    )
    values.update(changes)
    return RunResult(**values)  # type: ignore[arg-type]


def test_the_summary_names_the_controller_and_shows_text_as_text() -> None:
    console = Console(width=140, file=io.StringIO(), record=True, color_system=None)
    console.print(summary_table(_result(reason="[/nope] is not on the table \x1b[31mred")))
    text = console.export_text()
    assert "controller      │ default" in text and "tree            │ my_tree.yaml" in text
    assert "grasp the [/x] can" in text and "[/nope] is not on the table \\x1b[31mred" in text
    assert "propose: 1 call," in text and "1 slow tick" in text and "1 slow ticks" not in text
    assert "80.0 ticks/s unpaced (target 20) over 40 ticks, 1 slow tick," in text
    assert "Hz achieved" not in text


def test_without_the_live_view_progress_lines_name_the_tick_the_running_skill_and_the_target() -> None:
    grasp = py_trees.behaviours.Running("grasp the cup")
    root = py_trees.composites.Sequence("clear", memory=True, children=[grasp])
    root.tick_once()
    state = RunState(root=root, tick=42, sim_time=2.1, cadence=Cadence(20.0), target="the cup")
    line = "tick 42 (t=2.1 s sim, 3 s elapsed): grasp the cup, target the cup; grasped 0"
    assert progress_line(state, 3.2) == line
    console = Console(width=40, file=io.StringIO(), record=True, color_system=None)
    with LiveView(console, enabled=False, lines_every_s=0.0) as view:  # a line at every update
        view.update(state)
        view.update(RunState(root=None, tick=43, sim_time=2.2, cadence=Cadence(20.0)))
    lines = console.export_text().splitlines()
    assert [text.split(":", 1)[0] for text in lines] == [
        "tick 42 (t=2.1 s sim, 0 s elapsed)",
        "tick 43 (t=2.2 s sim, 0 s elapsed)",
    ]
    assert lines[1].endswith("planning; grasped 0")  # no tree yet: the planner is at work
    with LiveView(console, enabled=False) as silent:  # no interval: nothing printed
        silent.update(state)
    assert len(console.export_text().splitlines()) == 0  # export_text cleared the record
