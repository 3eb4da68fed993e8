"""A small store of smooth synthetic episodes (a moving disc on a gradient) for the format tests.

Smooth images, because lossy video codecs are judged on pictures like camera frames, not on noise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dexagent.controller.data import DemoStore, EpisodeFrames, EpisodeMetadata

SIZE = 32


def smooth_episode(steps: int, seed: int, size: int = SIZE) -> tuple[EpisodeFrames, EpisodeMetadata]:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size]
    background = np.stack([xs * 200 // size, ys * 200 // size, np.full_like(xs, 90)], axis=-1)
    head, masks = [], []
    for t in range(steps):
        disc = (xs - size / 4 - t * 0.7 - seed) ** 2 + (ys - size / 3 - seed) ** 2 < (size / 8) ** 2
        image = background.copy()
        image[disc] = (220, 50, 40)
        head.append(image.astype(np.uint8))
        masks.append(disc)
    head_rgb, head_mask = np.stack(head), np.stack(masks)
    frames = EpisodeFrames(
        action=rng.normal(size=(steps, 13)).astype(np.float32),
        state=rng.normal(size=(steps, 13)).astype(np.float32),
        head_rgb=head_rgb,
        head_mask=head_mask,
        wrist_rgb=np.ascontiguousarray(head_rgb[:, ::-1]),
        head_table=ys[None].repeat(steps, 0) > size // 2,
        wrist_table=np.ascontiguousarray(head_mask[:, :, ::-1]),
    )
    ys_box, xs_box = np.nonzero(head_mask[0])
    metadata = EpisodeMetadata(
        seed=seed,
        split=("seen", "unseen-objects")[seed % 2],
        skill="grasp",
        target_name="red_apple",
        target_category="fruit",
        target_colour="red",
        target_tags=("fruit", "red"),
        instruction=("grasp the red apple", "grasp the red ball")[seed % 2],
        target_box=(
            float(xs_box.min()),
            float(ys_box.min()),
            float(xs_box.max() + 1),
            float(ys_box.max() + 1),
        ),
        steps=steps,
    )
    return frames, metadata


@pytest.fixture
def make_smooth_store(tmp_path: Path) -> Callable[..., DemoStore]:
    """Factory: a store at tmp_path/NAME with one smooth episode per entry of `lengths`."""

    def make(name: str = "demos.zarr", lengths: tuple[int, ...] = (6, 9, 7), size: int = SIZE) -> DemoStore:
        path = tmp_path / name
        with DemoStore.create_or_append(path, image_size=size, control_hz=20.0) as store:
            for seed, steps in enumerate(lengths):
                store.append_episode(*smooth_episode(steps, seed, size))
        return DemoStore.open(path)

    return make
