"""`SimRobotConfig`: what the `sim` robot type is built from (a seeded scene and camera sizes)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dexagent.hardware.robot_config import RobotConfig
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE

SimSplit = Literal["seen", "unseen-objects", "unseen-backgrounds", "unseen-lighting"]


class SimRobotConfig(RobotConfig):
    """The simulated arm + hand in a reproducible random scene."""

    type: Literal["sim"] = "sim"
    seed: int = Field(0, description="scene seed (the same seed gives the same scene)")
    objects: int = Field(6, ge=1, le=8, description="objects on the table")
    split: SimSplit = Field("seen", description="domain split of objects, backgrounds and lighting")
    image_size: int = Field(DEFAULT_IMAGE_SIZE, ge=16, description="square camera images, pixels")
    wrist_size: int | None = Field(
        None, ge=16, description="the wrist camera's square images, pixels (None: image_size)"
    )
