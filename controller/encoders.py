"""Camera encoders: frozen DINOv2 (transformers `Dinov2Model`) and a small trainable CNN.

Both take rgb float32 (B, 3, S, S) in [0, 1] and return patch tokens float32 (B, N, D)
on a (S / patch_size / pool)^2 grid, row-major, so the mask tokens line up with them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dexagent.controller.config import ENCODERS, ConfigError, EncoderConfig, InputNorm

# DINOv2 was trained on ImageNet-normalised images; the trainable encoders use the same
# statistics by default so cached data and augmentations look the same to all of them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class EncoderError(ConfigError):
    """A pretrained encoder could not be loaded or does not match its config."""


# Floor of an image's per-channel std under "instance" normalisation: a nearly flat image
# (a lens cap, a blank frame) is not blown up into noise.
INSTANCE_STD_FLOOR = 0.02


class _Normalise(nn.Module):
    """rgb in [0, 1] -> zero-mean inputs: ImageNet statistics, or each image's own ("instance")."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mode: InputNorm = "imagenet") -> None:
        super().__init__()
        self.mode = mode
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        if self.mode == "instance":
            mean = rgb.mean(dim=(2, 3), keepdim=True)
            std = rgb.std(dim=(2, 3), keepdim=True).clamp_min(INSTANCE_STD_FLOOR)
            return (rgb - mean) / std
        return (rgb - self.mean) / self.std


def _pool_tokens(tokens: torch.Tensor, grid: int, pool: int) -> torch.Tensor:
    """Average-pool (B, grid*grid, D) tokens to (B, (grid/pool)^2, D)."""
    if pool == 1:
        return tokens
    batch, _, dim = tokens.shape
    fmap = tokens.transpose(1, 2).reshape(batch, dim, grid, grid)
    return F.avg_pool2d(fmap, pool).flatten(2).transpose(1, 2)


def dinov2_config(config: EncoderConfig):  # -> transformers.Dinov2Config
    """The transformers `Dinov2Config` for this encoder config (no weights, no download)."""
    from transformers import Dinov2Config

    return Dinov2Config(
        hidden_size=config.width,
        num_hidden_layers=config.depth,
        num_attention_heads=config.heads,
        mlp_ratio=config.mlp_ratio,
        patch_size=config.patch_size,
        image_size=config.native_image_size,
    )


class Dinov2Encoder(nn.Module):
    """DINOv2 patch tokens (CLS dropped). Loads `config.source` with `from_pretrained` when asked.

    With `load_pretrained=False` the same architecture is built with random weights: a
    checkpoint's state dict (or a meta-device parameter count) fills it instead.
    """

    def __init__(self, config: EncoderConfig, image_size: int, load_pretrained: bool = True) -> None:
        super().__init__()
        from transformers import Dinov2Model

        self.config = config
        self.grid = image_size // config.patch_size
        self.normalise = _Normalise()
        if load_pretrained and config.source:
            from transformers.utils import logging as hf_logging

            from dexagent.controller.encoder_import import resolve_source

            location = resolve_source(config.source)  # raises its own message for importable sources
            # An eval builds one controller per episode: no "Loading weights" bar for each of them.
            shown = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()
            try:
                model = Dinov2Model.from_pretrained(location)
            except (OSError, ValueError) as error:
                raise EncoderError(
                    f"could not load DINOv2 from {config.source!r} (a hub id needs the weights in the "
                    f"local Hugging Face cache when offline; a folder needs config.json + weights): {error}"
                ) from None
            finally:
                if shown:
                    hf_logging.enable_progress_bar()
            self._check_matches(model.config)
        else:
            model = Dinov2Model(dinov2_config(config))
        self.model = model
        if config.frozen:
            self.model.requires_grad_(False)

    def _check_matches(self, loaded: object) -> None:
        expected = {
            "hidden_size": self.config.width,
            "num_hidden_layers": self.config.depth,
            "num_attention_heads": self.config.heads,
            "patch_size": self.config.patch_size,
            "mlp_ratio": self.config.mlp_ratio,
            "image_size": self.config.native_image_size,
        }
        wrong = {
            k: (getattr(loaded, k, None), v) for k, v in expected.items() if getattr(loaded, k, None) != v
        }
        if wrong:
            details = ", ".join(
                f"{k}: model has {got}, config says {want}" for k, (got, want) in wrong.items()
            )
            raise EncoderError(
                f"DINOv2 at {self.config.source!r} does not match the encoder config ({details})"
            )

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """rgb (B,3,S,S) in [0,1] -> patch tokens float32 (B, N, D), whatever the weights' dtype."""
        pixels = self.normalise(rgb).to(self.model.dtype)  # bf16 weights take bf16 pixels
        out = self.model(pixel_values=pixels).last_hidden_state.float()
        return _pool_tokens(out[:, 1:], self.grid, self.config.pool)

    def train(self, mode: bool = True) -> Dinov2Encoder:
        # A frozen encoder stays in eval mode (no dropout, fixed statistics) while the policy trains.
        super().train(False if self.config.frozen else mode)
        return self


class CnnEncoder(nn.Module):
    """A small trainable conv net: one stride-2 conv stage per entry of `channels`, then 1x1 to width."""

    def __init__(self, config: EncoderConfig, image_size: int) -> None:
        super().__init__()
        self.config = config
        self.grid = image_size // config.patch_size
        self.normalise = _Normalise(config.input_norm)
        layers: list[nn.Module] = []
        in_ch = 3
        for out_ch in config.channels:
            layers += [
                nn.Conv2d(in_ch, out_ch, 3, stride=2, padding=1),
                nn.GroupNorm(min(8, out_ch), out_ch),
                nn.GELU(),
            ]
            in_ch = out_ch
        layers.append(nn.Conv2d(in_ch, config.width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """rgb (B,3,S,S) in [0,1] -> tokens (B, N, D)."""
        fmap = self.net(self.normalise(rgb))
        if self.config.pool > 1:
            fmap = F.avg_pool2d(fmap, self.config.pool)
        return fmap.flatten(2).transpose(1, 2)


def build_encoder(config: EncoderConfig, image_size: int, load_pretrained: bool = True) -> nn.Module:
    """The encoder module for one camera: the `ENCODERS` entry its `kind` names."""
    return ENCODERS.factory(config.kind)(config, image_size, load_pretrained)


def build_dinov2(config: EncoderConfig, image_size: int, load_pretrained: bool) -> nn.Module:
    """The `dinov2` entry's factory."""
    return Dinov2Encoder(config, image_size, load_pretrained=load_pretrained)


def build_cnn(config: EncoderConfig, image_size: int, load_pretrained: bool) -> nn.Module:
    """The `cnn` entry's factory (nothing pretrained to load)."""
    return CnnEncoder(config, image_size)


def token_count(config: EncoderConfig, image_size: int) -> int:
    """How many tokens the encoder yields for one image."""
    side = image_size // (config.patch_size * config.pool)
    return side * side
