"""`SamSegmenter`: Segment Anything turns the planner's box into the target's first mask.

segment-anything is imported lazily (it needs torchvision): install `dexagent[perception]`.
Weights come from a local checkpoint path (the official `sam_vit_b_01ec64.pth` and kin);
tests build a small random-initialised `Sam` from the same classes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dexagent.controller.perception.registry import TrackerConfigError
from dexagent.hardware import Box

INSTALL = (
    "pip install 'dexagent[perception]' (segment-anything needs torchvision: "
    "torch==2.14.1 torchvision==0.29.1)"
)


def import_segment_anything() -> Any:
    try:
        import segment_anything
    except ImportError as error:
        raise TrackerConfigError(f"the sam segmenter needs segment-anything ({error}); {INSTALL}") from None
    return segment_anything


def load_sam(checkpoint: str | Path, model_type: str = "vit_b", device: str = "cpu") -> Any:
    """A `segment_anything.Sam` with the checkpoint's weights, on `device`, in eval mode."""
    segment_anything = import_segment_anything()
    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise TrackerConfigError(
            f"SAM checkpoint {path} not found; download e.g. sam_vit_b_01ec64.pth from the "
            "segment-anything repository and pass its path (checkpoint=...)"
        )
    builders = segment_anything.sam_model_registry
    if model_type not in builders:
        raise TrackerConfigError(
            f"unknown SAM model type {model_type!r}; choose one of {', '.join(builders)}"
        )
    import torch

    model = builders[model_type](checkpoint=None)
    state = torch.load(path, map_location="cpu", weights_only=True)  # never unpickle objects from a file
    model.load_state_dict(state)
    return model.to(device).eval()


class SamSegmenter:
    """Box -> mask with SAM: the best of its three candidate masks by predicted IoU."""

    def __init__(self, sam: Any) -> None:
        self.predictor = import_segment_anything().SamPredictor(sam)

    def segment(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The target's mask bool[H, W] in the uint8[H, W, 3] RGB `image`."""
        self.predictor.set_image(image, image_format="RGB")
        masks, scores, _ = self.predictor.predict(box=np.array(box.as_tuple()), multimask_output=True)
        return np.asarray(masks[int(np.argmax(scores))], dtype=bool)
