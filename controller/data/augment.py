"""RGB colour jitter for trainable image encoders, on whole batches in torch.

The strengths follow diffusion_policy / DexGraspVLA's training code (torchvision's
`ColorJitter(brightness=0.3, contrast=0.4, saturation=0.5, hue=0.08)`): every
image of the batch draws its own factors from an explicit generator, so a run is
reproducible from its seed and step. Frozen encoders get no jitter: their features
are cached once per frame, and the paper relies on their invariance instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ColorJitter:
    """Ranges of the random factors: brightness/contrast/saturation in [1-x, 1+x], hue shift in [-x, x]."""

    brightness: float = 0.3
    contrast: float = 0.4
    saturation: float = 0.5
    hue: float = 0.08

    def __post_init__(self) -> None:
        for name in ("brightness", "contrast", "saturation"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"ColorJitter.{name} must be in [0, 1), got {getattr(self, name)}")
        if not 0.0 <= self.hue <= 0.5:
            raise ValueError(f"ColorJitter.hue must be in [0, 0.5], got {self.hue}")

    def __call__(self, rgb: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Jitter float (B, 3, S, S) images in [0, 1]; returns a new tensor in [0, 1]."""
        if rgb.ndim != 4 or rgb.shape[1] != 3:
            raise ValueError(f"ColorJitter expects (B, 3, S, S) images, got shape {tuple(rgb.shape)}")
        batch = rgb.shape[0]

        def factors(spread: float) -> torch.Tensor:
            # Drawn on the CPU generator so the draws are identical on every device.
            draw = torch.rand(batch, generator=generator) * 2 * spread + (1 - spread)
            return draw.to(rgb.device, rgb.dtype).view(batch, 1, 1, 1)

        brightness = factors(self.brightness)
        contrast = factors(self.contrast)
        saturation = factors(self.saturation)
        hue_shift = (torch.rand(batch, generator=generator) * 2 - 1) * self.hue

        out = (rgb * brightness).clamp(0, 1)
        mean_grey = _grey(out).mean(dim=(1, 2, 3), keepdim=True)
        out = (mean_grey + (out - mean_grey) * contrast).clamp(0, 1)
        grey = _grey(out)
        out = (grey + (out - grey) * saturation).clamp(0, 1)
        if self.hue > 0:
            out = _shift_hue(out, hue_shift.to(rgb.device, rgb.dtype))
        return out


def _grey(rgb: torch.Tensor) -> torch.Tensor:
    """ITU-R 601 luma (B, 1, S, S), as torchvision's rgb_to_grayscale."""
    return (0.299 * rgb[:, 0:1] + 0.587 * rgb[:, 1:2] + 0.114 * rgb[:, 2:3]).to(rgb.dtype)


def _shift_hue(rgb: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of (B, 3, S, S) images by shift (B,) turns, through HSV."""
    red, green, blue = rgb.unbind(dim=1)
    max_c = rgb.amax(dim=1)
    min_c = rgb.amin(dim=1)
    value = max_c
    chroma = max_c - min_c
    safe_chroma = torch.where(chroma > 0, chroma, torch.ones_like(chroma))
    saturation = chroma / torch.where(max_c > 0, max_c, torch.ones_like(max_c))
    rc = (max_c - red) / safe_chroma
    gc = (max_c - green) / safe_chroma
    bc = (max_c - blue) / safe_chroma
    hue = torch.where(max_c == red, bc - gc, torch.where(max_c == green, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = torch.where(chroma > 0, (hue / 6.0) % 1.0, torch.zeros_like(hue))
    hue = (hue + shift.view(-1, 1, 1)) % 1.0

    sector = hue * 6.0
    index = sector.floor()
    frac = sector - index
    p = value * (1 - saturation)
    q = value * (1 - saturation * frac)
    t = value * (1 - saturation * (1 - frac))
    index = index.long() % 6
    choices = [
        torch.stack(c, dim=1)
        for c in ((value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value), (value, p, q))
    ]
    out = torch.zeros_like(rgb)
    for sector_id, candidate in enumerate(choices):
        out = torch.where((index == sector_id).unsqueeze(1), candidate, out)
    return out.clamp(0, 1)
