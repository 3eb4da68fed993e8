"""`compare_to_sim` and `dexagent calibrate check`: what differs from the sim embodiment, with verdicts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.hardware.real.calibration import SIM_HEAD_LOOK_AT, SIM_HEAD_POSITION, compare_to_sim
from dexagent.hardware.real.config import RealRobotConfig

CAMERAS = {
    "head": {"serial": "1", "width": 480, "height": 480},
    "wrist": {"serial": "2", "width": 480, "height": 480},
}
SIM_LIKE = {
    "arm": {
        "lower_deg": [-177.6, -129.9, -177.6, -134.9, -177.6, -127.9, -359.8],
        "upper_deg": [177.6, 129.9, 177.6, 134.9, 177.6, 127.9, 359.8],
    },
    "cameras": CAMERAS,
    "calibration": {
        "head_camera": {
            "position_m": list(SIM_HEAD_POSITION),
            "look_at_m": list(SIM_HEAD_LOOK_AT),
            "vertical_fov_deg": 50,
        },
        "wrist_vertical_fov_deg": 75,
    },
}


def _verdicts(data: dict) -> dict[str, str]:
    return {row.what: row.verdict for row in compare_to_sim(RealRobotConfig.model_validate(data))}


def test_a_robot_built_like_the_sim_has_no_differences() -> None:
    assert set(_verdicts(SIM_LIKE).values()) == {"ok"}


def test_a_moved_camera_a_narrow_joint_and_a_wide_frame_are_named() -> None:
    data = {**SIM_LIKE, "cameras": {**CAMERAS, "head": {"serial": "1", "width": 640, "height": 480}}}
    data["calibration"] = {
        "head_camera": {"position_m": [0.8, 0.3, 0.7], "look_at_m": [0.47, 0.0, 0.0], "vertical_fov_deg": 42}
    }
    data["arm"] = {**SIM_LIKE["arm"], "upper_deg": [177.6, 100.0, 177.6, 134.9, 177.6, 127.9, 359.8]}
    verdicts = _verdicts(data)
    assert verdicts["head camera position (m)"] == "far"  # 0.4 m away
    assert verdicts["head camera direction (deg off)"] in ("differs", "far")
    assert verdicts["head camera vertical fov (deg)"] == "differs"
    assert verdicts["joint2 range (deg)"] == "far"  # 30 deg narrower than the sim's
    assert verdicts["head image aspect"] == "differs"
    assert "wrist camera vertical fov (deg)" not in verdicts  # not measured: not compared


def test_an_unmeasured_head_camera_is_one_row_that_differs_and_the_rows_keep_their_order() -> None:
    rows = compare_to_sim(RealRobotConfig.model_validate({**SIM_LIKE, "calibration": {}}))
    whats = [row.what for row in rows]
    assert whats[:2] == ["joint1 range (deg)", "joint1 home (deg)"]  # per joint: range, then home
    assert whats[-3:] == ["head camera pose", "head image aspect", "wrist image aspect"]
    assert rows[-3].verdict == "differs" and "not measured" in rows[-3].real


def test_the_command_exits_1_when_something_is_far(tmp_path: Path) -> None:
    path = tmp_path / "robot.yaml"
    path.write_text(
        "type: real\ncameras:\n  head: {serial: '1', width: 480, height: 480}\n"
        "  wrist: {serial: '2', width: 480, height: 480}\n"
        "calibration:\n  head_camera: {position_m: [0.5, 0.5, 1.5], look_at_m: [0.47, 0, 0]}\n"
    )
    result = CliRunner().invoke(
        app, ["calibrate", "check", "--robot-config", str(path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 1 and "head camera position" in result.output and "far" in result.output
    path.write_text("type: real\ncameras: {}\n")
    result = CliRunner().invoke(app, ["calibrate", "check", "--robot-config", str(path)])
    assert result.exit_code == 2 and "cameras.head: Field required" in result.output
