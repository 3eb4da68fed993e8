"""The real robot's config file for a command: present, valid, and of `type: real`, or exit 2 saying why."""

from __future__ import annotations

from pathlib import Path

from dexagent.cli.errors import fail
from dexagent.hardware.config_file import RobotConfigFileError, load_robot_config
from dexagent.hardware.real.config import RealRobotConfig


def load_real_robot_config(path: Path | None, command: str) -> RealRobotConfig:
    """`command` names what needs it in the messages (e.g. "--robot real", "calibrate check")."""
    if path is None:
        fail(f"{command} needs --robot-config FILE (see hardware/real/robot.example.yaml)")
    try:
        config = load_robot_config(path)
    except RobotConfigFileError as error:
        fail(str(error))
    if not isinstance(config, RealRobotConfig):
        fail(f"{path}: {command} needs `type: real`, the file says `type: {config.type}`")
    return config
