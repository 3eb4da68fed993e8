"""Recording a run: head and wrist images side by side, one frame per tick, written as it goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import imageio.v2 as imageio
import numpy as np
from PIL import Image

from dexagent.hardware import Observation


def side_by_side(head: np.ndarray, wrist: np.ndarray) -> np.ndarray:
    """head | wrist, uint8[H, W_head + W, 3]: a wrist image of another height (a camera of its own
    size) is scaled to the head's, nearest pixel, so its own resolution still shows."""
    if wrist.shape[0] != head.shape[0]:
        height = head.shape[0]
        width = max(1, round(wrist.shape[1] * height / wrist.shape[0]))
        wrist = np.asarray(Image.fromarray(wrist).resize((width, height), Image.Resampling.NEAREST))
    return np.concatenate([head, wrist], axis=1)


class VideoRecorder:
    """An MP4 (or GIF) of a run; frames are written on arrival so an interrupted run keeps its video."""

    def __init__(self, path: Path, fps: float = 20.0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {"fps": fps}
        if path.suffix.lower() == ".mp4":
            options.update(codec="libx264", quality=7, macro_block_size=1)
        self._writer = imageio.get_writer(str(path), **options)
        self.frames = 0

    def add(self, observation: Observation) -> None:
        """Append head|wrist (`side_by_side`) for one tick."""
        self._writer.append_data(side_by_side(observation.head_rgb, observation.wrist_rgb))
        self.frames += 1

    def close(self) -> None:
        self._writer.close()
