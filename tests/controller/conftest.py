"""Tiny policy configs, batches and a local random DINOv2 shared by the controller tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from dexagent.controller.config import EncoderConfig, PolicyConfig

TINY_SIZE = 32  # the image size of the root `tiny_config`


def tiny_dinov2_encoder(folder: Path, frozen: bool = True) -> EncoderConfig:
    """The EncoderConfig of the tiny DINOv2 saved in `folder` by the fixture below."""
    return EncoderConfig(
        kind="dinov2",
        source=str(folder),
        frozen=frozen,
        width=24,
        patch_size=8,
        depth=1,
        heads=2,
        mlp_ratio=2,
        native_image_size=TINY_SIZE,
    )


def tiny_batch(config: PolicyConfig, batch_size: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random batch in the policy's input contract, with a small square target mask."""
    generator = torch.Generator().manual_seed(seed)
    size = config.image_size
    masks = torch.zeros(batch_size, 1, size, size)
    for i in range(batch_size):
        y, x = torch.randint(0, size - 4, (2,), generator=generator).tolist()
        masks[i, :, y : y + 4, x : x + 4] = 1.0
    return {
        "head_rgb": torch.rand(batch_size, 3, size, size, generator=generator),
        "wrist_rgb": torch.rand(batch_size, 3, size, size, generator=generator),
        "head_mask": masks,
        "first_mask": masks.clone(),
        "state": torch.randn(batch_size, 13, generator=generator),
        "tick": torch.randint(0, 120, (batch_size,), generator=generator).float(),
        "action": torch.randn(batch_size, config.horizon, 13, generator=generator),
    }


def randomize_output_layers(module: nn.Module, seed: int = 0) -> None:
    """Give zero-initialised (adaLN-Zero) layers random weights so an untrained policy's output
    depends on its inputs; otherwise every prediction is the same pure-noise denoise."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.requires_grad and torch.count_nonzero(parameter) == 0:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)


@pytest.fixture
def tiny_dinov2_dir(tmp_path: Path) -> Path:
    """A random-initialised DINOv2 saved with save_pretrained: the offline stand-in for a hub id."""
    from transformers import Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    config = Dinov2Config(
        hidden_size=24,
        num_hidden_layers=1,
        num_attention_heads=2,
        mlp_ratio=2,
        patch_size=8,
        image_size=TINY_SIZE,
    )
    folder = tmp_path / "tiny-dinov2"
    Dinov2Model(config).save_pretrained(folder)
    return folder


# Test modules are not importable from each other (importlib mode): the helpers travel as fixtures.
@pytest.fixture
def make_batch():  # -> Callable[..., dict[str, torch.Tensor]]
    return tiny_batch


@pytest.fixture
def randomize():  # -> Callable[[nn.Module, int], None]
    return randomize_output_layers


@pytest.fixture
def dinov2_encoder_config():  # -> Callable[[Path, bool], EncoderConfig]
    return tiny_dinov2_encoder
