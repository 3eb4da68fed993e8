"""An in-process `dexagent run --robot real` on loopback devices (the fixture `real_cli`).

The hand is the simulated Inspire behind a real pymodbus server on 127.0.0.1 (`modbus_hand_sim`);
the cameras are librealsense software devices; only the arm is a stand-in at the SDK boundary.
The CLI runs in this process with its own config loading, tracker check, exit codes and
messages; the planner and controller are the skills tests' scripted stand-ins (no VLM, no
policy), injected where the CLI builds them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_realman import FakeRealMan
from modbus_hand_sim import HandState, tcp_hand
from software_camera import SoftwareCamera
from typer.testing import CliRunner

from dexagent.agent.runner import AgentRun, RunState
from dexagent.agent.world import World, robot_world
from dexagent.cli import run_real
from dexagent.cli.app import app
from dexagent.hardware import Box
from dexagent.hardware.real.config import RealRobotConfig
from dexagent.hardware.real.robot import RealRobot
from dexagent.skills.planning import Instruction
from tests.skills.conftest import ClosingController, ScriptedPlanner

HEAD, WRIST = "111111111111", "222222222222"
runner = CliRunner()


@dataclass
class RealCli:
    """The devices behind one in-process `dexagent` on loopback, and what reached them."""

    config: Path
    hand: HandState
    arm: FakeRealMan
    robots: list[RealRobot]
    on_tick: list[Callable[[RunState], None]]
    planner: Any
    cameras: dict[str, SoftwareCamera]

    def invoke(self, *args: str) -> tuple[int, str, float]:
        started = time.perf_counter()
        result = runner.invoke(app, list(args))
        escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
        assert not escaped and "Traceback" not in result.output, result.output
        return result.exit_code, " ".join(result.output.split()), time.perf_counter() - started

    def run(self, prompt: str = "grasp the cup") -> tuple[int, str, float]:
        return self.invoke(
            "run", prompt, "--robot", "real", "--robot-config", str(self.config), "--controller",
            "scripted", "--tracker", "oracle", "--planner", "openai", "--tree", "grasp_object",
        )  # fmt: skip


def config_text(hand_port: int) -> str:
    return (
        "type: real\n"
        f"hand: {{host: 127.0.0.1, port: {hand_port}, timeout_s: 1.0, retries: 0}}\n"
        "cameras:\n"
        f"  head: {{serial: '{HEAD}', width: 64, height: 48}}\n"
        f"  wrist: {{serial: '{WRIST}', width: 64, height: 48}}\n"
        "  frame_timeout_s: 0.5\n"
        "safety: {estop_signal: none, estop_key: null}\n"
    )


class _StandInControllers:
    """The run's controllers: one that infers nothing, for every skill."""

    def __init__(self) -> None:
        self.controller = ClosingController()

    def __call__(self, skill: str) -> ClosingController:
        return self.controller

    def close(self) -> None:
        self.controller.close()


@pytest.fixture
def real_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RealCli]:
    state = HandState()
    cameras = {HEAD: SoftwareCamera(HEAD), WRIST: SoftwareCamera(WRIST)}
    arm = FakeRealMan()
    for camera in cameras.values():
        camera.start_streaming()
    with tcp_hand(state) as (port, _):
        path = tmp_path / "robot.yaml"
        path.write_text(config_text(port))
        planner = ScriptedPlanner(boxes={"cup": Box(10, 10, 30, 30)})
        cli = RealCli(path, state, arm, [], [], planner, cameras)
        cli.planner.plan = [Instruction(skill="grasp", target="cup", text="grasp the cup")]
        cli.planner.verdicts = [True]

        def make_robot(config: RealRobotConfig) -> RealRobot:
            robot = RealRobot.connect(
                config, make_arm_sdk=lambda: arm, find_camera=lambda s: cameras[s].device
            )
            cli.robots.append(robot)
            return robot

        def world(robot: Any, planner: Any, controllers: Any, tracker: Any, **kw: Any) -> World:
            built = robot_world(robot, planner, controllers, tracker, **kw)
            built.controllers = _StandInControllers()  # type: ignore[assignment]
            agent_run = built.agent_run

            def agent_run_with_hooks(config: Any, **options: Any) -> AgentRun:
                view = options.pop("on_tick")

                def on_tick(tick: RunState) -> None:
                    view(tick)
                    for hook in cli.on_tick:
                        hook(tick)

                return agent_run(config, on_tick=on_tick, **options)

            built.agent_run = agent_run_with_hooks  # type: ignore[method-assign]
            return built

        monkeypatch.setattr(run_real, "make_robot", make_robot)
        monkeypatch.setattr(run_real, "build_planner", lambda *a, **k: cli.planner)
        monkeypatch.setattr(run_real, "robot_world", world)
        try:
            yield cli
        finally:
            for robot in cli.robots:
                robot.close()
            for camera in list(cameras.values()):
                camera.unplug()
