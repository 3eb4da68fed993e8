"""`RobotConfig`: the base of every robot type's config class (`type` names its registry entry)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from dexagent.hardware.errors import HardwareError


class RobotConfigError(HardwareError):
    """A robot config names an unknown type or has an invalid field."""


class RobotConfig(BaseModel):
    """Base of every robot config: `type` names the registry entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
