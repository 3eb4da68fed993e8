"""`RobotConfig`: the base of every robot type's config class (`type` names its registry entry)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RobotConfig(BaseModel):
    """Base of every robot config: `type` names the registry entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
