"""`dexagent collect --robot real`: bad input exits 2; an episode a crash left behind is offered and kept."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.cli.collect_real import parse_box
from dexagent.controller.data import DemoStore
from dexagent.controller.data.spool import EpisodeSpool

runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "robot.yaml"
    path.write_text(
        f"type: real\narm: {{ip: 127.0.0.1, port: {_closed_port()}}}\n"
        "cameras:\n  head: {serial: '1'}\n  wrist: {serial: '2'}\n"
    )
    return path


def _collect(tmp_path: Path, *args: str, input: str = "") -> tuple[int, str]:
    out = str(tmp_path / "demos.zarr")
    result = runner.invoke(
        app, ["collect", "-n", "1", "--out", out, "--robot", "real", "--image-size", "16", *args], input=input
    )
    return result.exit_code, result.output


def test_the_real_robot_needs_a_valid_config_and_tracker(tmp_path: Path) -> None:
    assert "--robot real needs --robot-config" in _collect(tmp_path)[1]
    code, output = _collect(tmp_path, "--robot-config", str(_config(tmp_path)), "--tracker", "xmem")
    assert code == 2 and "unknown mask tracker 'xmem'" in output


def test_an_interrupted_episode_is_offered_and_kept_before_the_robot_connects(tmp_path: Path) -> None:
    spool = EpisodeSpool(tmp_path / "demos.zarr.spool" / "episode-00000")
    spool.write_metadata({"instruction": "grasp the cup", "target_box": [1, 1, 8, 8]})
    for tick in range(4):  # what a crashed replay had written
        spool.append(
            action=np.full(13, tick, np.float32),
            state=np.zeros(13, np.float32),
            head_rgb=np.zeros((16, 16, 3), np.uint8),
            head_mask=np.ones((16, 16), bool),
            wrist_rgb=np.zeros((16, 16, 3), np.uint8),
            head_table=np.zeros((16, 16), bool),
            wrist_table=np.zeros((16, 16), bool),
        )
    code, output = _collect(
        tmp_path, "--robot-config", str(_config(tmp_path)), "--tracker", "oracle", input="y\n"
    )
    assert "interrupted episode ('grasp the cup', 4 ticks)" in output and "kept" in output
    assert code == 2 and "cannot connect the robot" in output  # no arm here; the kept episode is safe
    with DemoStore.open(tmp_path / "demos.zarr") as store:
        assert store.num_episodes == 1 and store.episode_metadata(0).instruction == "grasp the cup"
        assert store.episode(0).action[:, 0].tolist() == [0, 1, 2, 3]
    assert EpisodeSpool.leftover(tmp_path / "demos.zarr.spool") == []


def test_boxes_typed_by_the_operator_are_checked() -> None:
    assert parse_box("10, 20, 30, 40", 640, 480).as_tuple() == (10, 20, 30, 40)
    with pytest.raises(ValueError, match="four numbers"):
        parse_box("10,20", 640, 480)
    with pytest.raises(ValueError, match="inside the 640x480 image"):
        parse_box("10,20,700,40", 640, 480)


def test_the_planner_proposes_the_targets_box_on_the_head_image() -> None:
    from dexagent.agent.planner import ScenePlanner
    from dexagent.cli.collect_real import planner_box
    from dexagent.hardware.sim.robot import SimRobot
    from dexagent.hardware.sim.scenes import sample_scene

    with SimRobot(sample_scene(3, n_objects=2), image_size=64) as sim:
        name = sim.objects[0].name.replace("_", " ")
        box = planner_box(ScenePlanner(sim), "grasp", f"grasp the {name}", sim.observe())
        truth = sim.object_box(0)
        assert truth is not None and box.iou(truth) > 0.99
