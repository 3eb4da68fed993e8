"""`dexagent run --robot real`: every bad input exits 2 with one line before any device is touched."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.cli.run_real import parse_options

runner = CliRunner()
CONFIG = "type: real\ncameras:\n  head: {serial: '1'}\n  wrist: {serial: '2'}\n"


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["run", "grasp the cup", "--robot", "real", "--controller", "scripted", *args]
    )
    return result.exit_code, result.output


def test_the_real_robot_needs_a_config_file() -> None:
    code, output = _run()
    assert code == 2 and "--robot real needs --robot-config FILE" in output


def test_a_bad_config_file_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "robot.yaml"
    path.write_text(CONFIG + "arm:\n  port: -4\n")
    code, output = _run("--robot-config", str(path))
    assert code == 2 and f"{path}:6: arm.port: Input should be greater than or equal to 1" in output.replace(
        "\n", ""
    )


def test_a_sim_config_is_not_a_real_robot(tmp_path: Path) -> None:
    path = tmp_path / "robot.yaml"
    path.write_text("type: sim\n")
    code, output = _run("--robot-config", str(path))
    assert code == 2 and "needs `type: real`" in output


def test_unknown_trackers_and_tracker_options_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "robot.yaml"
    path.write_text(CONFIG)
    code, output = _run("--robot-config", str(path), "--tracker", "xmem")
    assert code == 2 and "unknown mask tracker 'xmem'" in output
    code, output = _run("--robot-config", str(path), "--tracker", "oracle", "--tracker-option", "size")
    assert code == 2 and "expected KEY=VALUE" in output


def test_the_scene_planner_needs_the_sim(tmp_path: Path) -> None:
    path = tmp_path / "robot.yaml"
    path.write_text(CONFIG)
    code, output = _run("--robot-config", str(path), "--tracker", "oracle", "--planner", "scene")
    assert code == 2 and "use --planner openai on a real robot" in output


def test_a_robot_without_an_emergency_stop_is_refused_before_it_moves(tmp_path: Path, monkeypatch) -> None:
    import dexagent.cli.run_real as run_real

    class NoStopRobot:
        closed = homed = False

        def home(self) -> None:
            self.homed = True

        def close(self) -> None:
            self.closed = True

    robot = NoStopRobot()
    usable = type("Usable", (), {"ok": True, "detail": ""})()
    monkeypatch.setattr(run_real, "tracker_factory", lambda name, **options: object)
    monkeypatch.setattr(run_real, "tracker_check", lambda *args, **kwargs: usable)
    monkeypatch.setattr(run_real, "build_planner", lambda *args, **kwargs: object())
    monkeypatch.setattr(run_real, "make_robot", lambda config: robot)
    path = tmp_path / "robot.yaml"
    path.write_text(CONFIG)
    code, output = _run("--robot-config", str(path), "--tracker", "oracle", "--planner", "openai")
    assert code == 2 and "robot type 'real' has no emergency_stop(reason)" in output
    assert robot.closed and not robot.homed


def test_tracker_options_parse_numbers_and_booleans() -> None:
    assert parse_options(["a=1", "b=0.5", "c=true", "d=/w/sam.pt"], "--x") == {
        "a": 1,
        "b": 0.5,
        "c": True,
        "d": "/w/sam.pt",
    }
