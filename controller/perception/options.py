"""The options of the mask trackers that take any: their config classes (loaded when one is used)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SamCutieOptions(BaseModel):
    """Options of the `sam+cutie` tracker (the paper's pair)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sam_checkpoint: str = Field(description="path of a SAM checkpoint, e.g. sam_vit_b_01ec64.pth")
    sam_model_type: str = Field("vit_b", description="vit_b, vit_l or vit_h (must match the checkpoint)")
    cutie_weights: str = Field(description="path of Cutie's weights, e.g. cutie-base-mega.pth")
    cutie_model: str = Field("base", description="base or small (must match the weights)")
    device: str = Field("cpu", description="torch device: cpu or cuda")


class Sam2Options(BaseModel):
    """Options of the streaming `sam2` tracker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checkpoint: str = Field(description="path of a SAM2.1 checkpoint, e.g. sam2.1_hiera_tiny.pt")
    size: str = Field("tiny", description="tiny, small, base_plus or large (must match the checkpoint)")
    device: str = Field("cpu", description="torch device: cpu or cuda")
    margin: float = Field(0.15, ge=0, le=2, description="grow the last mask's box by this fraction per frame")
    min_score: float = Field(
        0.5, ge=0, le=1, description="below this predicted IoU the target counts as hidden"
    )
