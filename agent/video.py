"""Recording a run: head and wrist images side by side, one frame per tick, written as it goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import imageio.v2 as imageio
import numpy as np

from dexagent.hardware import Observation


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
        """Append head|wrist (uint8[H, W_head + W_wrist, 3]) for one tick."""
        head, wrist = observation.head_rgb, observation.wrist_rgb
        if wrist.shape[0] != head.shape[0]:
            wrist = np.zeros(
                (head.shape[0], wrist.shape[1], 3), np.uint8
            )  # cameras of other sizes: keep head
        self._writer.append_data(np.concatenate([head, wrist], axis=1))
        self.frames += 1

    def close(self) -> None:
        self._writer.close()
