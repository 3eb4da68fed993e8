"""A robot's config file for a command: present, valid, and of the type asked for, or exit 2 saying why."""

from __future__ import annotations

from pathlib import Path

from dexagent.cli.errors import fail
from dexagent.hardware.config_file import RobotConfigFileError, load_robot_config
from dexagent.hardware.real.config import RealRobotConfig
from dexagent.hardware.robot_config import RobotConfig


def load_real_robot_config(path: Path | None, command: str) -> RealRobotConfig:
    """`command` names what needs it in the messages (e.g. "--robot real", "calibrate check")."""
    config = load_robot_config_of_type(path, "real", command)
    if not isinstance(config, RealRobotConfig):  # `real` re-registered with another config class
        fail(f"{path}: {command} needs the RealMan arm's config, got a {type(config).__name__}")
    return config


def load_robot_config_of_type(path: Path | None, robot_type: str, command: str) -> RobotConfig:
    """The config file at `path`, which must say `type: {robot_type}`."""
    if path is None:
        example = " (see hardware/real/robot.example.yaml)" if robot_type == "real" else ""
        fail(f"{command} needs --robot-config FILE{example}")
    try:
        config = load_robot_config(path)
    except RobotConfigFileError as error:
        fail(str(error))
    if config.type != robot_type:
        fail(f"{path}: {command} needs `type: {robot_type}`, the file says `type: {config.type}`")
    return config
