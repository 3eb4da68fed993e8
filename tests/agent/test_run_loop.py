"""The run loop on the real MuJoCo sim with the scene planner and the scripted controller."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must precede MuJoCo's GL setup

from dexagent.agent.episode_log import EpisodeLog, read_log
from dexagent.agent.planner import build_planner
from dexagent.agent.runner import AgentRun, RunConfig, RunState
from dexagent.agent.sim_world import SimTruth, build_sim_robot, drop_pose, run_prompt_in_sim
from dexagent.controller.factory import load_controller
from dexagent.hardware import ARM_DOF, Box, Observation
from dexagent.hardware.sim.robot import SimRobot

SEED = 3


def graspable_target(sim: SimRobot) -> str:
    """The scene planner's phrase for the first object that is grasped directly (not flat)."""
    obj = next(o for o in sim.objects if not o.flat)
    return "the " + obj.name.replace("_", " ")


def make_run(sim: SimRobot, prompt: str, log: EpisodeLog | None = None, **options: object) -> AgentRun:
    controllers = options.pop("controllers", None) or (lambda skill: load_controller("scripted", sim, skill))
    config = RunConfig(prompt=prompt, realtime=False, **options)  # type: ignore[arg-type]
    return AgentRun(
        sim,
        build_planner("scene", sim),
        controllers,  # type: ignore[arg-type]
        config,
        scene=SimTruth(sim),
        drop_pose=drop_pose(),
        clock=lambda: sim.time,
        log=log,
    )


@pytest.fixture
def sim() -> SimRobot:
    robot = build_sim_robot(SEED, n_objects=2, image_size=64)
    yield robot
    robot.close()


@pytest.mark.slow
def test_grasp_prompt_completes_and_leaves_a_log(sim: SimRobot, tmp_path: Path) -> None:
    target = graspable_target(sim)
    log = EpisodeLog(tmp_path / "run.jsonl")
    result = make_run(sim, f"grasp {target}", log).run()
    log.close()
    assert result.completed, result.reason
    assert result.tree_name == "grasp_object"
    assert result.grasped == [target] and result.attempts == 1 and result.successful_attempts == 1
    assert result.planner["propose"]["calls"] >= 1 and result.planner["ground"]["calls"] >= 1
    assert result.cadence["ticks"] == result.ticks > 100
    events = read_log(tmp_path / "run.jsonl")
    assert events[0]["event"] == "run_start" and events[-1]["event"] == "run_end"
    names = [e["event"] for e in events]
    for expected in ("first_plan", "tree", "grounded", "dropped", "skill_end"):
        assert expected in names
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)  # sim time never goes back
    # The reset put the arm back home with the hand open.
    np.testing.assert_allclose(sim.state()[ARM_DOF:], 1.0, atol=0.05)


def test_ctrl_c_preempts_the_grasp_opens_the_hand_and_returns_a_result(sim: SimRobot) -> None:
    run = make_run(sim, f"grasp {graspable_target(sim)}")
    seen: list[RunState] = []

    def interrupt(state: RunState) -> None:
        seen.append(state)
        if state.tick == 60:  # mid-grasp: the scripted expert is descending or closing
            raise KeyboardInterrupt

    run.on_tick = interrupt
    result = run.run()
    assert result.interrupted and not result.completed
    assert result.reason == "stopped by the operator (Ctrl-C)"
    assert seen[-1].instruction.startswith("grasp") and seen[-1].target
    names = [e["event"] for e in run.log.events]
    assert "skill_preempted" in names and names[-2:] == ["stopped_safely", "run_end"]
    hold = run.robot.safety.hold_action
    assert hold is not None and np.all(hold[ARM_DOF:] == 1.0)  # last command: hand open, arm held


def test_the_time_budget_ends_the_run(sim: SimRobot) -> None:
    result = make_run(sim, f"grasp {graspable_target(sim)}", max_seconds=1.0).run()
    assert not result.completed
    assert result.reason == "time budget of 1 s spent before the prompt was done"
    assert result.sim_seconds >= 1.0


def test_a_prompt_the_planner_cannot_plan_is_not_completed(sim: SimRobot) -> None:
    result = make_run(sim, "grasp the purple unicorn").run()
    assert not result.completed
    assert result.reason.startswith("the planner could not plan 'grasp the purple unicorn': ")
    assert result.ticks == 0


class StillController:
    """A controller that never moves (a policy that failed to learn): every grasp attempt times out."""

    def reset(self, observation: Observation, target_box: Box) -> None:
        self.closed = False

    def act(self, observation: Observation) -> np.ndarray:
        return observation.state.copy()

    def close(self) -> None:
        self.closed = True


RECOVERY_TREE = """
description: One grasp with a short budget, and one recovery (go home) before the second try.
tree:
  name: grasp once more
  recovery:
    try:
      grasp: {target: "{target}", budget_s: 1.0}
    recover:
      reset: {drop: false}
  retries: 1
"""


def test_a_failing_grasp_runs_the_recovery_branch_once_then_fails(sim: SimRobot, tmp_path: Path) -> None:
    tree = tmp_path / "once_more.yaml"
    tree.write_text(RECOVERY_TREE)
    result = make_run(
        sim, f"grasp {graspable_target(sim)}", tree=tree, controllers=lambda skill: StillController()
    ).run()
    assert not result.completed
    assert result.reason == "grasp: timeout after 1.0 s"
    assert result.recoveries == 1 and result.attempts == 2 and result.successful_attempts == 0


@pytest.mark.slow
def test_clear_the_table_in_a_fresh_scene_completes(tmp_path: Path) -> None:
    log = EpisodeLog(tmp_path / "clear.jsonl")
    result = run_prompt_in_sim("clear the table", seed=SEED, n_objects=2, image_size=64, log=log)
    log.close()
    assert result.completed, result.reason
    assert result.tree_name == "clear_table"
    assert len(result.grasped) == 2 and result.successful_attempts >= 2
    completions = [e for e in read_log(tmp_path / "clear.jsonl") if e["event"] == "completion"]
    assert completions[-1]["ok"] is True


class NaNController(StillController):
    """A broken policy: its first action is NaN, which the safety layer must refuse."""

    def act(self, observation: Observation) -> np.ndarray:
        return np.full(13, np.nan, np.float32)


def test_an_unsafe_action_ends_the_run_with_the_safety_layers_reason(sim: SimRobot) -> None:
    run = make_run(sim, f"grasp {graspable_target(sim)}", controllers=lambda skill: NaNController())
    result = run.run()
    assert not result.completed
    assert result.reason.startswith("the robot stopped the run: action has NaN/inf for joints")
    names = [e["event"] for e in run.log.events]
    assert "robot_error" in names and names[-2:] == ["stopped_safely", "run_end"]


def test_a_requested_stop_lands_between_ticks_and_stops_safely(sim: SimRobot) -> None:
    run = make_run(sim, f"grasp {graspable_target(sim)}")

    def stop_at_tick_60(state: RunState) -> None:
        if state.tick == 60:
            run.request_stop("stopped by the operator (Ctrl-C)")  # what the CLI's signal handler does

    run.on_tick = stop_at_tick_60
    result = run.run()
    assert result.interrupted and result.reason == "stopped by the operator (Ctrl-C)"
    names = [e["event"] for e in run.log.events]
    assert "skill_preempted" in names and names[-2:] == ["stopped_safely", "run_end"]
    assert result.ticks == 60 + 5  # no tick ran after the request; then 5 ticks to open the hand
