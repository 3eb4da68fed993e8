"""`sam2`: a streaming SAM2 tracker for live frames.

SAM2 1.1.0's video predictor wants every frame up front; a robot gets one frame at a time.
This tracker runs SAM2's image predictor on each new frame, prompted with the box around
the previous mask (grown by a margin, as the object moves) plus that mask's low-resolution
logits, and keeps the candidate with the best predicted IoU. When the prediction is poor
(the hand hides the object) it reports an empty mask and keeps the last good box, so the
target is found again when it reappears.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dexagent.controller.perception.registry import TrackerConfigError
from dexagent.hardware import Box, Observation

INSTALL = (
    "SAM2_BUILD_CUDA=0 pip install 'dexagent[perception]' "
    "(SAM2 needs torchvision: torch==2.14.1 torchvision==0.29.1)"
)
CONFIGS = {
    "tiny": "configs/sam2.1/sam2.1_hiera_t.yaml",
    "small": "configs/sam2.1/sam2.1_hiera_s.yaml",
    "base_plus": "configs/sam2.1/sam2.1_hiera_b+.yaml",
    "large": "configs/sam2.1/sam2.1_hiera_l.yaml",
}


def load_sam2(size: str, checkpoint: str | Path | None, device: str = "cpu") -> Any:
    """A `SAM2ImagePredictor`; `checkpoint=None` gives random weights (tests only)."""
    try:
        from sam2.build_sam import build_sam2
        from sam2.sam2_image_predictor import SAM2ImagePredictor
    except ImportError as error:
        raise TrackerConfigError(f"the sam2 tracker needs SAM2 ({error}); {INSTALL}") from None
    if size not in CONFIGS:
        raise TrackerConfigError(f"unknown SAM2 size {size!r}; choose one of {', '.join(CONFIGS)}")
    path = None
    if checkpoint is not None:
        path = Path(checkpoint).expanduser()
        if not path.is_file():
            raise TrackerConfigError(
                f"SAM2 checkpoint {path} not found; "
                "download e.g. sam2.1_hiera_tiny.pt and pass checkpoint=PATH"
            )
    model = build_sam2(CONFIGS[size], ckpt_path=str(path) if path else None, device=device)
    return SAM2ImagePredictor(model)


def grown(box: Box, margin: float, width: int, height: int) -> Box:
    """`box` grown by `margin` of its size on every side, inside the image."""
    dx, dy = box.width * margin, box.height * margin
    return Box(
        max(0.0, box.x1 - dx),
        max(0.0, box.y1 - dy),
        min(float(width), box.x2 + dx),
        min(float(height), box.y2 + dy),
    )


class Sam2StreamTracker:
    """`MaskTracker` on live frames with SAM2's image predictor (one frame per `step`)."""

    def __init__(self, predictor: Any, margin: float = 0.15, min_score: float = 0.5) -> None:
        self.predictor = predictor
        self.margin = margin
        self.min_score = min_score
        self.box: Box | None = None
        self._logits: np.ndarray | None = None  # float[1, 256, 256] of the last good mask
        self.lost_frames = 0

    def _predict(
        self, image: np.ndarray, box: Box, logits: np.ndarray | None
    ) -> tuple[np.ndarray, float, Any]:
        import torch

        with torch.inference_mode():
            self.predictor.set_image(image)
            masks, scores, low_res = self.predictor.predict(
                box=np.array(box.as_tuple()), mask_input=logits, multimask_output=logits is None
            )
        best = int(np.argmax(scores))
        return np.asarray(masks[best] > 0, dtype=bool), float(scores[best]), low_res[best : best + 1]

    def start(self, observation: Observation, target_box: Box) -> np.ndarray:
        mask, _, logits = self._predict(observation.head_rgb, target_box, None)
        self.box = Box.from_mask(mask) or target_box
        self._logits = logits
        self.lost_frames = 0
        return mask

    def step(self, observation: Observation) -> np.ndarray:
        if self.box is None:
            raise TrackerConfigError("Sam2StreamTracker.step called before start")
        height, width = observation.head_rgb.shape[:2]
        prompt = grown(self.box, self.margin, width, height)
        mask, score, logits = self._predict(observation.head_rgb, prompt, self._logits)
        box = Box.from_mask(mask)
        if box is None or score < self.min_score:
            self.lost_frames += 1
            return np.zeros((height, width), dtype=bool)  # hidden or lost: keep the last good box
        self.box, self._logits, self.lost_frames = box, logits, 0
        return mask
