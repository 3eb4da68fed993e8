"""The agent's run loop on the real-robot rig: the same tree, safety layer and skills as in sim.

Planner and controller are the skills tests' scripted stand-ins (the learned controller needs a
trained policy's minutes of CPU); everything below them is the real driver stack on loopback.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from real_rig import Rig

from dexagent.agent.episode_log import EpisodeLog
from dexagent.agent.runner import AgentRun, RunConfig
from dexagent.hardware import Box
from dexagent.skills.planning import Instruction
from tests.skills.conftest import ClosingController, ScriptedPlanner

CUP = Instruction(skill="grasp", target="cup", text="grasp the cup")


def _run(rig: Rig, planner: ScriptedPlanner, on_tick=None, log: Path | None = None) -> object:  # type: ignore[no-untyped-def]
    # Paced as `dexagent run --robot real` always is: the arm moves in wall time, so unpaced ticks
    # would make the reset's budget (in ticks) depend on how fast this machine runs them.
    config = RunConfig(
        prompt="grasp the cup", tree="grasp_object", realtime=True, success_check="verifier", max_seconds=60
    )
    episode_log = EpisodeLog(log)
    controllers = lambda skill: ClosingController()  # noqa: E731
    agent = AgentRun(rig.robot, planner, controllers, config, on_tick=on_tick, log=episode_log)
    try:
        return agent.run()
    finally:
        episode_log.close()


def test_a_grasp_prompt_completes_on_the_real_robot_stack(rig: Rig) -> None:
    planner = ScriptedPlanner(boxes={"cup": Box(10, 10, 30, 30)}, verdicts=[True], plan=[CUP])
    result = _run(rig, planner)
    assert result.completed, result.reason  # type: ignore[attr-defined]
    assert rig.arm.canfd and rig.hand.writes  # the arm streamed, the hand was commanded
    assert "verify_grasp" in planner.calls


def test_a_hand_that_stops_answering_mid_grasp_fails_the_attempt_and_the_tree_recovers(
    rig: Rig, tmp_path: Path
) -> None:
    planner = ScriptedPlanner(boxes={"cup": Box(10, 10, 30, 30)}, verdicts=[True, True], plan=[CUP])
    faults = threading.Event()

    def on_tick(state) -> None:  # type: ignore[no-untyped-def]
        if state.tick == 5 and not faults.is_set():
            faults.set()
            rig.hand.silent = True  # the hand's gateway hangs for one request
        elif faults.is_set():
            rig.hand.silent = False

    result = _run(rig, planner, on_tick, tmp_path / "log.jsonl")
    events = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert faults.is_set()
    assert result.completed, result.reason  # type: ignore[attr-defined]
    grasp_ends = [e for e in events if e["event"] == "skill_end" and e["skill"] == "grasp"]
    # the first attempt failed with the device's message, the tree tried again and succeeded
    assert grasp_ends[0]["status"] == "FAILURE" and "robot fault: hand: no answer" in grasp_ends[0]["reason"]
    assert grasp_ends[-1]["status"] == "SUCCESS" and len(grasp_ends) == 2
