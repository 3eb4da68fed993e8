"""The robot registry: config classes by `type`, `make_robot(config)`, config files with file:line errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from dexagent.hardware import Robot
from dexagent.hardware.config_file import RobotConfigFileError, load_robot_config
from dexagent.hardware.real.config import RealRobotConfig
from dexagent.hardware.registry import ROBOTS, RobotConfigError, make_robot, robot_config_from_dict
from dexagent.hardware.robot_config import RobotConfig
from dexagent.hardware.sim.config import SimRobotConfig
from dexagent.hardware.sim.scene_spec import SPLITS

REAL_YAML = """\
type: real
arm:
  ip: 10.0.0.5
  port: 8080
cameras:
  head: {serial: "123456789012"}
  wrist: {serial: "210987654321"}
"""


def test_sim_and_real_are_registered_with_their_config_classes() -> None:
    assert {"sim", "real"} <= set(ROBOTS.names())
    assert isinstance(robot_config_from_dict({"type": "sim", "seed": 3}), SimRobotConfig)
    assert set(SimRobotConfig.model_fields["split"].annotation.__args__) == set(SPLITS)  # type: ignore[union-attr]


def test_make_robot_builds_the_sim_from_its_config() -> None:
    robot = make_robot(SimRobotConfig(seed=2, objects=2, image_size=32))
    try:
        assert isinstance(robot, Robot)
        assert robot.observe().head_rgb.shape == (32, 32, 3)
    finally:
        robot.close()


def test_a_new_robot_type_needs_only_its_config_class_and_one_registration() -> None:
    class EchoConfig(RobotConfig):
        type: str = "echo-test"
        gain: float = 1.0

    built: list[float] = []
    ROBOTS.register("echo-test", "a test robot", config=EchoConfig, factory=lambda c: built.append(c.gain))
    try:
        config = robot_config_from_dict({"type": "echo-test", "gain": 2.5})
        make_robot(config)
        assert built == [2.5]
        with pytest.raises(ValueError, match="already registered"):
            ROBOTS.register("echo-test", "again", config=EchoConfig, factory=lambda c: None)
    finally:
        ROBOTS.unregister("echo-test")


def test_unknown_types_and_mismatched_configs_are_named() -> None:
    with pytest.raises(RobotConfigError, match="unknown robot type 'mars'.*sim, real"):
        robot_config_from_dict({"type": "mars"})
    with pytest.raises(RobotConfigError, match="needs a 'type' field"):
        robot_config_from_dict({"seed": 1})


def test_a_real_config_file_converts_degrees_to_radians(tmp_path: Path) -> None:
    path = tmp_path / "robot.yaml"
    path.write_text(REAL_YAML)
    config = load_robot_config(path)
    assert isinstance(config, RealRobotConfig) and config.arm.ip == "10.0.0.5"
    spec = config.spec()
    assert spec.upper[0] == pytest.approx(math.radians(178.0))
    assert np.allclose(spec.home[:7], np.radians(config.poses.home[:7]))
    assert np.all(spec.home[7:] == 1.0)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (REAL_YAML.replace("port: 8080", "port: 99999"), 4, "arm.port: Input should be less than"),
        (REAL_YAML.replace("  port: 8080", "  prot: 8080"), 4, "arm.prot: unknown field"),
        (REAL_YAML.replace('  wrist: {serial: "210987654321"}\n', ""), 5, "cameras.wrist: Field required"),
        (REAL_YAML + "poses:\n  home: [0, 0, 0, 0, 0, 0, 400, 1, 1, 1, 1, 1, 1]\n", 1, "joint7 = 400"),
        (REAL_YAML + "arm:\n  ip: x\n", 8, "duplicate key 'arm'"),
        ("type: real\narm: [unclosed\n", 3, "invalid YAML"),
        ("type: moon\n", 1, "unknown robot type 'moon'"),
        ("", 1, "the file is empty"),
    ],
)
def test_bad_config_files_name_the_file_line_and_field(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = tmp_path / "robot.yaml"
    path.write_text(text)
    with pytest.raises(RobotConfigFileError) as caught:
        load_robot_config(path)
    assert str(caught.value).startswith(f"{path}:{line}: "), str(caught.value)
    assert fragment in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RobotConfigFileError, match="file not found"):
        load_robot_config(tmp_path / "nope.yaml")


def test_the_shipped_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "hardware" / "real" / "robot.example.yaml"
    config = load_robot_config(example)
    assert isinstance(config, RealRobotConfig) and config.poses.bin is not None
    assert config.calibration.head_camera is not None
