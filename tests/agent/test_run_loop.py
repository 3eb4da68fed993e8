"""The run loop on the real MuJoCo sim with the scene planner and the scripted controller."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import py_trees
import pytest

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must precede MuJoCo's GL setup

from dexagent.agent.episode_log import EpisodeLog, read_log
from dexagent.agent.planner import PromptNotUnderstoodError, build_planner
from dexagent.agent.runner import AgentRun, RunConfig, RunResult, RunState
from dexagent.agent.sim_world import SimTruth, drop_pose
from dexagent.agent.world import ControllerChoices, RunControllers, build_sim_world
from dexagent.controller.cadence import StageStats
from dexagent.hardware import ARM_DOF, Box, Observation
from dexagent.hardware.sim.config import SimRobotConfig
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene

SEED = 3


def graspable_target(sim: SimRobot) -> str:
    """The scene planner's phrase for the first object that is grasped directly (not flat)."""
    obj = next(o for o in sim.objects if not o.flat)
    return "the " + obj.name.replace("_", " ")


def make_run(sim: SimRobot, prompt: str, log: EpisodeLog | None = None, **options: object) -> AgentRun:
    controllers = options.pop("controllers", None) or RunControllers(ControllerChoices("scripted"), sim)
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
    robot = SimRobot(sample_scene(SEED, n_objects=2), image_size=64)
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
    # One plan: the agent's first plan picked the tree, and the tree's plan step took it.
    assert result.planner["propose"]["calls"] == 1 and result.planner["ground"]["calls"] >= 1
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


def test_a_prompt_for_an_object_not_in_the_scene_is_not_completed(sim: SimRobot) -> None:
    assert not any("banana" in obj.name for obj in sim.objects)
    result = make_run(sim, "grasp the banana").run()
    assert not result.completed
    assert result.reason.startswith("the planner could not plan 'grasp the banana': no object in the scene")
    assert result.ticks == 0


def test_a_prompt_the_planner_does_not_understand_is_raised_as_bad_input(sim: SimRobot) -> None:
    with pytest.raises(PromptNotUnderstoodError, match="does not understand the prompt 'asdf qwerty'"):
        make_run(sim, "asdf qwerty").run()


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


class TimedStillController(StillController):
    """A StillController that keeps inference figures and one starved tick, like a slow policy."""

    def __init__(self) -> None:
        self.stats = {"infer": StageStats()}
        self.stats["infer"].add(0.25)
        self.starved_ticks = 1


def test_a_controller_serving_every_attempt_joins_the_cadence_report_once(
    sim: SimRobot, tmp_path: Path
) -> None:
    tree = tmp_path / "once_more.yaml"
    tree.write_text(RECOVERY_TREE)
    controller = TimedStillController()  # its figures cover all its attempts, as a policy's do
    asked: list[str] = []
    result = make_run(
        sim,
        f"grasp {graspable_target(sim)}",
        tree=tree,
        controllers=lambda skill: asked.append(skill) or controller,
    ).run()
    assert result.attempts == len(asked) == 2
    cadence = result.cadence
    assert cadence["starved_ticks"] == 1 and cadence["stages_ms"]["infer"]["count"] == 1
    assert cadence["stages_ms"]["infer"]["worst"] == 250.0
    # Every tree tick is in the report (the hand-opening steps of the safe stop are not tree ticks).
    assert cadence["stages_ms"]["tick"]["count"] == cadence["ticks"] > 2 * 20  # two 1 s attempts
    assert cadence["paced"] is False


@pytest.mark.slow
def test_clear_the_table_in_a_fresh_scene_completes(tmp_path: Path) -> None:
    log = EpisodeLog(tmp_path / "clear.jsonl")
    robot = SimRobotConfig(seed=SEED, objects=2, image_size=64)
    with build_sim_world(robot, ControllerChoices("scripted")) as world:
        config = RunConfig(prompt="clear the table", realtime=False)
        result = world.agent_run(config, log=log).run()
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


TWO_PLANS = """
description: Plan, then plan again at once.
tree:
  sequence:
    - plan: {prompt: "{prompt}", allow_empty: false}
    - plan: {prompt: "{prompt}", allow_empty: false}
"""
PLAN_AFTER_MOVING = """
description: Go home first, then plan.
tree:
  sequence:
    - reset: {drop: false}
    - plan: {prompt: "{prompt}", allow_empty: false}
"""


@pytest.mark.parametrize(
    ("tree_text", "reused"),
    [(TWO_PLANS, [True, False]), (PLAN_AFTER_MOVING, [False])],
    ids=["first-plan-step-reuses-it", "plan-on-a-later-frame-asks-again"],
)
def test_the_first_plan_is_asked_for_once(
    sim: SimRobot, tmp_path: Path, tree_text: str, reused: list[bool]
) -> None:
    """The agent's first plan picks the tree; the tree's first `plan` on that same frame takes it
    instead of asking again; any other `plan` step asks the planner."""
    tree = tmp_path / "plans.yaml"
    tree.write_text(tree_text)
    run = make_run(sim, f"grasp {graspable_target(sim)}", tree=tree)
    result = run.run()
    assert result.completed, result.reason
    assert result.planner["propose"]["calls"] == 2  # the agent's first plan, and one plan step
    plans = [e for e in run.log.events if e["event"] == "plan"]
    assert [e["reused_first_plan"] for e in plans] == reused
    first = next(e for e in run.log.events if e["event"] == "first_plan")
    assert plans[0]["instructions"] == first["instructions"]


def test_two_runs_in_one_process_keep_their_blackboards_apart(sim: SimRobot, tmp_path: Path) -> None:
    """A second run, started and finished while the first is mid-tree, neither sees nor disturbs the
    first's keys; each run's keys and blackboard clients are gone once it returns."""
    board = py_trees.blackboard.Blackboard
    clients_before = len(board.clients)
    other_sim = SimRobot(sample_scene(SEED + 1, n_objects=2), image_size=64)
    prompts = (f"grasp {graspable_target(sim)}", f"grasp {graspable_target(other_sim)}")
    still = {"controllers": lambda skill: StillController()}
    tree = tmp_path / "once_more.yaml"
    tree.write_text(RECOVERY_TREE)
    first = make_run(sim, prompts[0], tree=tree, **still)
    second = make_run(other_sim, prompts[1], tree=tree, **still)
    assert first.context.namespace != second.context.namespace
    seen_by_second: list[tuple[object, object]] = []

    def watch(state: RunState) -> None:
        seen_by_second.append(
            (board.get(first.context.key("prompt")), board.get(second.context.key("prompt")))
        )

    second.on_tick = watch
    second_result: list[RunResult] = []

    def start_second(state: RunState) -> None:
        if state.tick == 5:  # the first run is grasping: its history, target and plan are live
            second_result.append(second.run())

    first.on_tick = start_second
    try:
        first_result = first.run()
    finally:
        other_sim.close()
    assert seen_by_second and set(seen_by_second) == {prompts}
    for result in (first_result, second_result[0]):
        assert result.reason == "grasp: timeout after 1.0 s"
        assert result.attempts == 2 and result.recoveries == 1  # its own attempts only
    for run in (first, second):
        assert not [key for key in board.storage if key.startswith(run.context.namespace + "/")]
    assert len(board.clients) == clients_before
