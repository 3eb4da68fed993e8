"""The robot registry: a config class per robot type, and `make_robot(config)` that finds its builder.

A config file says `type: sim` or `type: real`; `robot_config_from_dict` picks the config class
by that name and validates the rest. Adding a robot touches its own module plus one
`register_robot` call (below, for the built-in ones). Builders import their drivers lazily, so
reading a config never imports MuJoCo, pymodbus or a vendor SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from dexagent.hardware.robot_config import RobotConfig, RobotConfigError
from dexagent.hardware.types import Robot

__all__ = ["RobotConfig", "RobotConfigError", "make_robot", "register_robot", "robot_config_from_dict"]


@dataclass(frozen=True)
class RobotEntry:
    config_class: type[RobotConfig]
    build: Callable[[Any], Robot]
    description: str


_ROBOTS: dict[str, RobotEntry] = {}


def register_robot(
    type_name: str, config_class: type[RobotConfig], build: Callable[[Any], Robot], description: str
) -> None:
    """Make robots of `type_name` buildable from a `config_class` instance by `build(config)`."""
    if type_name in _ROBOTS:
        raise ValueError(f"robot type {type_name!r} is already registered")
    _ROBOTS[type_name] = RobotEntry(config_class, build, description)


def robot_types() -> dict[str, str]:
    """Registered robot types and what each one is."""
    return {name: entry.description for name, entry in _ROBOTS.items()}


def robot_config_class(type_name: str) -> type[RobotConfig]:
    """The config class of `type_name` (RobotConfigError for an unknown type)."""
    entry = _ROBOTS.get(type_name)
    if entry is None:
        raise RobotConfigError(f"unknown robot type {type_name!r}; choose one of {', '.join(_ROBOTS)}")
    return entry.config_class


def robot_config_from_dict(data: Mapping[str, Any]) -> RobotConfig:
    """Validate `data` against the config class its `type` names (pydantic errors pass through)."""
    type_name = data.get("type")
    if not isinstance(type_name, str):
        raise RobotConfigError(f"a robot config needs a 'type' field, one of {', '.join(_ROBOTS)}")
    return robot_config_class(type_name).model_validate(dict(data))


def make_robot(config: RobotConfig) -> Robot:
    """Build (and connect) the robot `config` describes."""
    entry = _ROBOTS.get(config.type)
    if entry is None:
        raise RobotConfigError(f"unknown robot type {config.type!r}; choose one of {', '.join(_ROBOTS)}")
    if not isinstance(config, entry.config_class):
        raise RobotConfigError(
            f"robot type {config.type!r} needs a {entry.config_class.__name__}, got {type(config).__name__}"
        )
    return entry.build(config)


def validation_message(error: ValidationError) -> str:
    """One line per invalid field, named by its path in the config."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "config"
        if item["type"] == "extra_forbidden":
            parts.append(f"{where}: unknown field")
        else:
            parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def _build_sim(config: Any) -> Robot:
    from dexagent.hardware.sim.robot import SimRobot
    from dexagent.hardware.sim.scenes import sample_scene

    scene = sample_scene(config.seed, split=config.split, n_objects=config.objects)
    return SimRobot(scene, image_size=config.image_size)


def _build_real(config: Any) -> Robot:
    from dexagent.hardware.real.robot import RealRobot

    return RealRobot.connect(config)


def _register_builtin() -> None:
    from dexagent.hardware.real.config import RealRobotConfig
    from dexagent.hardware.sim.config import SimRobotConfig

    register_robot("sim", SimRobotConfig, _build_sim, "the MuJoCo simulation of the arm + hand in a scene")
    register_robot("real", RealRobotConfig, _build_real, "RealMan arm + Modbus hand + two RealSense cameras")


_register_builtin()
