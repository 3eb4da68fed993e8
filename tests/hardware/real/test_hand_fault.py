"""`dexagent run --robot real` and `doctor` when the hand faults, end to end.

The hand is the simulated Inspire behind a real pymodbus server on 127.0.0.1 (`modbus_hand_sim`);
the cameras are librealsense software devices; only the arm is a stand-in at the SDK boundary.
The CLI runs in this process with its own config loading, tracker check, exit codes and
messages; the planner and controller are the skills tests' scripted stand-ins (no VLM, no
policy), injected where the CLI builds them.
"""

from __future__ import annotations

import os
import signal
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
from dexagent.cli.errors import EXIT_DEVICE_FAULT
from dexagent.hardware import Box
from dexagent.hardware.real.config import RealRobotConfig
from dexagent.hardware.real.robot import RealRobot
from dexagent.skills.planning import Instruction
from tests.skills.conftest import ClosingController, ScriptedPlanner

HEAD, WRIST = "111111111111", "222222222222"
MIDDLE_SLOT = 2  # Inspire's block is little, ring, middle, index, thumb flexion, thumb rotation
OVER_CURRENT = 0b100
Row = Callable[..., None]
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


def _config_text(hand_port: int) -> str:
    return (
        "type: real\n"
        f"hand: {{host: 127.0.0.1, port: {hand_port}, timeout_s: 0.2, retries: 0}}\n"
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
        path.write_text(_config_text(port))
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


def _angle_writes(state: HandState, since: int = 0) -> list[list[int]]:
    return [values for address, values in state.writes[since:] if address == state.registers.angle_set]


def test_the_run_completes_on_a_healthy_hand(real_cli: RealCli) -> None:
    code, output, _ = real_cli.run()
    assert code == 0, output
    assert _angle_writes(real_cli.hand) and real_cli.arm.canfd


def test_an_error_bit_mid_run_stops_the_arm_within_a_period_and_ends_the_run_with_exit_3(
    real_cli: RealCli, fault_row: Row
) -> None:
    raised: dict[str, float] = {}

    def over_current(tick: RunState) -> None:
        if tick.tick == 8 and not raised:  # the grasp is under way: the arm streams, the hand closes
            raised["writes"] = len(real_cli.hand.writes)
            raised["at"] = time.monotonic()
            real_cli.hand.errors[MIDDLE_SLOT] = OVER_CURRENT

    real_cli.on_tick.append(over_current)
    code, output, seconds = real_cli.run()
    assert raised, output
    assert code == EXIT_DEVICE_FAULT == 3, output
    assert "device fault, the arm is stopped: hand: error bits set: middle: over-current" in output
    assert f"dexagent doctor --robot-config {real_cli.config} --clear-hand-errors" in output
    # Before: 15-16 more angle commands reached the faulted hand, and the run went on.
    assert _angle_writes(real_cli.hand, int(raised["writes"])) == []
    arm = real_cli.arm
    stops = [at for name, at in arm.calls if name == "rm_set_arm_stop" and at > raised["at"]]
    assert stops, arm.calls[-5:]
    period = 1 / 20.0
    # The error register is read with every observation, once per control period: the stop comes
    # with the first observation after the bit (measured 49-50 ms here); half a period more is
    # allowed for a loaded machine's thread wake-ups.
    latency = stops[0] - raised["at"]
    assert latency <= 1.5 * period, latency
    moves = [n for n, at in arm.calls if n in ("rm_movej_canfd", "rm_movej") and at > stops[0]]
    assert moves == []
    fault_row(
        f"hand over-current bit raised mid-run (`run --robot real`): arm stopped {latency * 1000:.0f} ms "
        "later, no angle write after it",
        code,
        seconds,
        "none",
        "none",
    )


def test_a_hand_in_fault_at_connect_is_never_written_and_the_arm_never_moves(
    real_cli: RealCli, fault_row: Row
) -> None:
    real_cli.hand.errors[0] = 0b1  # the little finger is stalled before the run
    code, output, seconds = real_cli.run()
    assert code == 3, output
    assert "hand: error bits set: little: stalled (locked rotor)" in output
    assert real_cli.hand.writes == []  # not even the speed and force limits
    assert real_cli.arm.canfd == [] and real_cli.arm.movej == []
    fault_row("hand with an error bit at connect (`run --robot real`)", code, seconds, "none", "none")


def test_a_missing_tracker_package_fails_before_any_device_is_touched(
    real_cli: RealCli, fault_row: Row
) -> None:
    code, output, seconds = real_cli.invoke(
        "run", "grasp the cup", "--robot", "real", "--robot-config", str(real_cli.config),
        "--controller", "scripted", "--tracker", "sam2", "--tracker-option", "checkpoint=/nowhere/sam2.pt",
    )  # fmt: skip
    assert code == 2, output
    assert "--tracker sam2:" in output and ("not installed" in output or "weights not found" in output)
    assert "dexagent[perception]" in output or "weights not found" in output  # the hint kept its brackets
    # Before: the arm homed, the hand opened and 40 set-points streamed, then exit 1.
    assert real_cli.robots == [] and real_cli.hand.writes == [] and real_cli.arm.calls == []
    fault = "`run --robot real` with the tracker's package or weights missing"
    fault_row(fault, code, seconds, "none", "none")


def test_markup_in_a_prompt_ends_a_real_run_as_text(real_cli: RealCli, fault_row: Row) -> None:
    class Refusing(ScriptedPlanner):
        def propose(self, prompt: str, observation: Any, history: Any) -> Any:
            raise RuntimeError("cannot plan this")

    real_cli.planner = Refusing()
    code, output, seconds = real_cli.run("grasp [/x] the cup")
    assert code == 1, output  # was a rich MarkupError traceback
    assert "grasp [/x] the cup" in output
    fault_row("prompt with markup `[/x]` (`run --robot real`)", code, seconds, "none", "none")


def test_a_camera_that_never_streams_fails_connect_before_the_hand_is_written(
    real_cli: RealCli, fault_row: Row
) -> None:
    real_cli.cameras["333333333333"] = SoftwareCamera("333333333333")  # plugged in, never streams
    real_cli.config.write_text(real_cli.config.read_text().replace(WRIST, "333333333333"))
    code, output, seconds = real_cli.run()
    assert code == 2 and "wrist camera" in output and "no frame within 3 s" in output, output
    # Before: the speed and force registers were written before the cameras were confirmed.
    assert real_cli.hand.writes == [] and real_cli.arm.canfd == [] and real_cli.arm.movej == []
    fault_row("`run --robot real` with a wrist camera that never streams", code, seconds, "none", "none")


def test_doctor_only_reads_and_clears_hand_errors_when_asked(real_cli: RealCli, fault_row: Row) -> None:
    real_cli.hand.errors[MIDDLE_SLOT] = OVER_CURRENT
    args = ("doctor", "--robot-config", str(real_cli.config), "--timeout", "0.5")
    code, output, _ = real_cli.invoke(*args)
    assert code == 1 and "middle: over-current" in output, output
    assert real_cli.hand.writes == []  # was: the speed and force registers, written by a "check"
    code, output, seconds = real_cli.invoke(*args, "--clear-hand-errors")
    assert "errors were middle: over-current; cleared" in output, output
    assert real_cli.hand.clears == 1 and real_cli.hand.errors == [0] * 6
    assert [address for address, _ in real_cli.hand.writes] == [real_cli.hand.registers.clear_error]
    fault = "`doctor --clear-hand-errors` on a hand with an over-current bit (no arm or cameras: exit 1)"
    fault_row(fault, code, seconds, "none", "none")


def test_sigterm_mid_run_stops_a_real_run_safely_with_exit_130(real_cli: RealCli, fault_row: Row) -> None:
    def terminate(tick: RunState) -> None:
        if tick.tick == 6:
            os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` or a scheduler's stop

    real_cli.on_tick.append(terminate)
    code, output, seconds = real_cli.run()
    # Before: exit 1 "not completed", and a SIGTERM was reported as "Ctrl-C".
    assert code == 130, output
    assert "stopped by the operator (SIGTERM)" in output  # in the summary's outcome row, said once
    assert real_cli.hand.registers.angle_set in [address for address, _ in real_cli.hand.writes]
    fault_row(
        "SIGTERM mid-run (`run --robot real`): the hand opens, the arm holds", code, seconds, "none", "none"
    )


def test_kinesthetic_collection_with_a_hand_in_fault_exits_3(
    real_cli: RealCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dexagent.cli import collect_real

    monkeypatch.setattr(collect_real, "make_robot", run_real.make_robot)
    real_cli.hand.errors[MIDDLE_SLOT] = OVER_CURRENT
    code, output, _ = real_cli.invoke(
        "collect", "-n", "1", "--out", str(tmp_path / "demos.zarr"), "--robot", "real",
        "--robot-config", str(real_cli.config), "--tracker", "oracle", "--image-size", "16",
    )  # fmt: skip
    assert code == 3 and "hand: error bits set: middle: over-current" in output, output
    assert real_cli.hand.writes == [] and real_cli.arm.movej == []
