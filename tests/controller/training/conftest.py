"""Tiny demo stores and a tiny policy config for the training tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dexagent.controller.config import EncoderConfig, PolicyConfig
from dexagent.controller.data.store import DemoStore, EpisodeFrames, EpisodeMetadata


def write_demo_store(path: Path, lengths: list[int], image_size: int = 16, seed: int = 0) -> Path:
    """A real store whose episodes move the state at one shared velocity and act with the next state.

    The action chunk follows from the observed state, so a policy can learn it and generalise
    to held-out episodes.

    The target is a bright square whose position differs per episode; its mask is the square.
    """
    rng = np.random.default_rng(seed)
    velocity = rng.uniform(-0.05, 0.05, 13).astype(np.float32)
    base = rng.uniform(-1, 1, 13).astype(np.float32)
    with DemoStore.create_or_append(path, image_size=image_size, control_hz=20.0, joints=13) as store:
        for index, steps in enumerate(lengths):
            start = base + rng.uniform(-0.1, 0.1, 13).astype(np.float32)
            state = start + np.arange(steps + 1, dtype=np.float32)[:, None] * velocity
            head = np.full((steps, image_size, image_size, 3), rng.integers(0, 100, 3), dtype=np.uint8)
            mask = np.zeros((steps, image_size, image_size), dtype=bool)
            row, col = rng.integers(0, image_size - 4, 2)
            for t in range(steps):
                mask[t, row : row + 4, col : col + 4 - (t % 2)] = True  # the mask changes over time
            head[mask] = (250, 40, 40)
            wrist = rng.integers(0, 255, (steps, image_size, image_size, 3), dtype=np.uint8)
            frames = EpisodeFrames(
                action=state[1:].copy(),
                state=state[:-1].copy(),
                head_rgb=head,
                head_mask=mask,
                wrist_rgb=wrist,
                head_table=~mask,  # everything but the target is table
                wrist_table=np.broadcast_to(np.arange(image_size) >= image_size // 2, mask.shape).copy(),
            )
            metadata = EpisodeMetadata(
                seed=index, split="seen", skill="grasp", target_name="cube", target_category="toy",
                target_colour="red", target_tags=("toy",), instruction="grasp the red cube",
                target_box=(float(col), float(row), float(col + 4), float(row + 4)), steps=steps,
            )  # fmt: skip
            store.append_episode(frames, metadata)
    return path


@pytest.fixture
def demo_store(tmp_path: Path) -> Callable[..., Path]:
    """Factory: demo_store(lengths=[...], image_size=16, seed=0) -> path of a fresh store."""
    counter = iter(range(1000))

    def make(lengths: list[int] | None = None, image_size: int = 16, seed: int = 0) -> Path:
        return write_demo_store(
            tmp_path / f"demos{next(counter)}.zarr", lengths or [12, 9, 15, 11, 10, 14], image_size, seed
        )

    return make


@pytest.fixture(name="tiny_config")
def tiny_training_config(tiny_config: Callable[..., PolicyConfig]) -> Callable[..., PolicyConfig]:
    """The root tiny config at 16 px and a 4-step horizon: hundreds of CPU steps in seconds."""

    def make(**changes: object) -> PolicyConfig:
        encoder = EncoderConfig(kind="cnn", width=16, patch_size=4, channels=(8, 16))
        base: dict[str, object] = dict(image_size=16, head_encoder=encoder, horizon=4, execute_steps=2)
        return tiny_config(**{**base, **changes})

    return make
