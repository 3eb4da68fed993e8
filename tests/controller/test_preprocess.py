"""Shared preprocessing: shapes, ranges, and small targets that survive downscaling."""

from __future__ import annotations

import numpy as np
import pytest

from dexagent.controller.preprocess import (
    PreprocessError,
    mask_to_tensor,
    observation_to_batch,
    rgb_to_tensor,
)
from dexagent.hardware import Observation


def test_rgb_is_resized_to_unit_range_channels_first() -> None:
    image = np.random.default_rng(0).integers(0, 256, size=(120, 160, 3), dtype=np.uint8)
    tensor = rgb_to_tensor(image, 96)
    assert tensor.shape == (1, 3, 96, 96)
    assert tensor.min().item() >= 0.0 and tensor.max().item() <= 1.0


def test_same_size_rgb_is_exact() -> None:
    image = np.random.default_rng(1).integers(0, 256, size=(2, 32, 32, 3), dtype=np.uint8)
    tensor = rgb_to_tensor(image, 32)
    np.testing.assert_allclose(tensor.permute(0, 2, 3, 1).numpy() * 255, image, atol=1e-4)


def test_a_target_two_pixels_wide_is_not_lost_when_downscaled() -> None:
    mask = np.zeros((224, 224), dtype=bool)
    mask[100:102, 50:52] = True
    tensor = mask_to_tensor(mask, 32)
    assert tensor.shape == (1, 1, 32, 32)
    ys, xs = np.nonzero(tensor[0, 0].numpy())
    assert len(ys) == 1 and abs(ys[0] - 100 * 32 / 224) <= 1 and abs(xs[0] - 50 * 32 / 224) <= 1


def test_empty_mask_stays_empty_and_large_mask_keeps_its_area() -> None:
    assert mask_to_tensor(np.zeros((64, 64), bool), 32).sum() == 0
    mask = np.zeros((64, 64), bool)
    mask[:32] = True
    assert mask_to_tensor(mask, 32).sum().item() == 32 * 16


def test_wrong_inputs_raise_preprocess_error() -> None:
    with pytest.raises(PreprocessError, match="uint8"):
        rgb_to_tensor(np.zeros((8, 8, 3), np.float32), 8)
    with pytest.raises(PreprocessError, match=r"\(H, W, 3\)"):
        rgb_to_tensor(np.zeros((8, 8), np.uint8), 8)


def test_observation_becomes_a_batch_of_one() -> None:
    observation = Observation(
        head_rgb=np.zeros((48, 64, 3), np.uint8),
        wrist_rgb=np.zeros((48, 64, 3), np.uint8),
        state=np.arange(13, dtype=np.float32),
        t=0.0,
    )
    mask = np.zeros((48, 64), bool)
    batch = observation_to_batch(observation, mask, mask, 32, tick=7)
    assert {k: tuple(v.shape) for k, v in batch.items()} == {
        "head_rgb": (1, 3, 32, 32),
        "wrist_rgb": (1, 3, 32, 32),
        "head_mask": (1, 1, 32, 32),
        "first_mask": (1, 1, 32, 32),
        "state": (1, 13),
        "tick": (1,),
    }
    assert batch["tick"].tolist() == [7.0]
