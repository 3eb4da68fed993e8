"""The robot registry: a config class per robot type, and `make_robot(config)` that finds its builder.

A config file says `type: sim` or `type: real`; `robot_config_from_dict` picks the config class
by that name and validates the rest. Adding a robot touches its own module plus one
`ROBOTS.register` call (below, for the built-in ones). Config classes are registered by path and
builders import their drivers lazily, so listing robot types imports nothing (not pydantic), and
reading a config never imports MuJoCo, pymodbus or a vendor SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dexagent.hardware.errors import RobotConfigError
from dexagent.hardware.plugins import Registry

if TYPE_CHECKING:
    from dexagent.hardware.robot_config import RobotConfig
    from dexagent.hardware.types import Robot

__all__ = ["ROBOTS", "RobotConfigError", "make_robot", "robot_config_from_dict"]

# Each entry: its config class (a `RobotConfig` whose `type` is the name) and `build(config) -> Robot`.
ROBOTS: Registry[Robot] = Registry("robot type", RobotConfigError)


def robot_config_from_dict(data: Mapping[str, Any]) -> RobotConfig:
    """Validate `data` against the config class its `type` names (pydantic errors pass through)."""
    type_name = data.get("type")
    if not isinstance(type_name, str):
        raise RobotConfigError(f"a robot config needs a 'type' field, one of {ROBOTS.choices()}")
    config_class: Any = ROBOTS.config_class(type_name)
    return config_class.model_validate(dict(data))  # type: ignore[no-any-return]


def make_robot(config: RobotConfig) -> Robot:
    """Build (and connect) the robot `config` describes."""
    config_class = ROBOTS.config_class(config.type)
    if config_class is None or not isinstance(config, config_class):
        needed = config_class.__name__ if config_class is not None else "config class"
        raise RobotConfigError(f"robot type {config.type!r} needs a {needed}, got {type(config).__name__}")
    return ROBOTS.factory(config.type)(config)


def _build_sim(config: Any) -> Robot:
    from dexagent.hardware.sim.robot import SimRobot
    from dexagent.hardware.sim.scenes import sample_scene

    scene = sample_scene(config.seed, split=config.split, n_objects=config.objects)
    return SimRobot(scene, image_size=config.image_size, wrist_size=config.wrist_size)


def _build_real(config: Any) -> Robot:
    from dexagent.hardware.real.robot import RealRobot

    return RealRobot.connect(config)


ROBOTS.register(
    "sim",
    "the MuJoCo simulation of the arm + hand in a scene",
    config="dexagent.hardware.sim.config:SimRobotConfig",
    factory=_build_sim,
)
ROBOTS.register(
    "real",
    "RealMan arm + Modbus hand + two RealSense cameras",
    config="dexagent.hardware.real.config:RealRobotConfig",
    factory=_build_real,
)
