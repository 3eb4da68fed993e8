"""The target-mask ViT and the explicit target-position features.

The official mask ViT has no positional embedding, so its tokens only say "some mask is in
this patch" through their slot in the concatenation. Here the tokens carry a learned
position embedding, the input holds both the current and the first-frame mask, and
`target_position` gives the policy the centroid, spread and area outright: from the head
camera the target is a few pixels wide and mostly hidden by the hand during a grasp.
"""

from __future__ import annotations

import torch
from torch import nn

from dexagent.controller.config import MaskEncoderConfig

# Per mask: centroid x, y in [-1, 1], spread x, y, x-y correlation (orientation), sqrt(area
# fraction), visible flag.
TARGET_FEATURES_PER_MASK = 7


class MaskEncoder(nn.Module):
    """(B, 2, S, S) masks (current, first frame) -> (B, N, width) tokens on the head patch grid."""

    def __init__(
        self, config: MaskEncoderConfig, image_size: int, patch_size: int, in_channels: int = 2
    ) -> None:
        super().__init__()
        self.grid = image_size // patch_size
        self.patch_embed = nn.Conv2d(in_channels, config.width, patch_size, stride=patch_size)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid * self.grid, config.width))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        layer = nn.TransformerEncoderLayer(
            config.width,
            config.heads,
            dim_feedforward=4 * config.width,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        # enable_nested_tensor only matters for padded batches, which we never have.
        self.blocks = nn.TransformerEncoder(layer, config.depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(config.width)

    def forward(self, masks: torch.Tensor) -> torch.Tensor:
        """masks float32 (B, C, S, S) in {0,1} -> tokens (B, grid*grid, width)."""
        # Centre {0,1} masks so an empty patch is not a constant offset the layers must learn away.
        tokens = self.patch_embed(masks * 2.0 - 1.0).flatten(2).transpose(1, 2) + self.pos_embed
        return self.norm(self.blocks(tokens))


def target_position(mask: torch.Tensor) -> torch.Tensor:
    """Explicit target features of masks (B, 1, S, S) -> (B, 7).

    centroid x, y in [-1, 1] (0 when empty), spread (std) x, y in the same units, the x-y
    correlation in [-1, 1] (which diagonal an elongated target lies along; 0 for round ones),
    sqrt of the area fraction, and 1.0 if any pixel is set.
    """
    batch, _, height, width = mask.shape
    weights = mask.reshape(batch, height * width).float()
    total = weights.sum(dim=1, keepdim=True)
    visible = (total > 0).float()
    probs = weights / total.clamp_min(1.0)
    ys = torch.linspace(-1.0, 1.0, height, device=mask.device, dtype=weights.dtype)
    xs = torch.linspace(-1.0, 1.0, width, device=mask.device, dtype=weights.dtype)
    grid_y = ys.view(height, 1).expand(height, width).reshape(-1)
    grid_x = xs.view(1, width).expand(height, width).reshape(-1)
    cx = probs @ grid_x
    cy = probs @ grid_y
    sx = (probs @ grid_x.square() - cx.square()).clamp_min(0).sqrt()
    sy = (probs @ grid_y.square() - cy.square()).clamp_min(0).sqrt()
    covariance = probs @ (grid_x * grid_y) - cx * cy
    correlation = (covariance / (sx * sy).clamp_min(1e-6)).clamp(-1.0, 1.0)
    area = (total / (height * width)).sqrt().squeeze(1)
    return torch.stack([cx, cy, sx, sy, correlation, area, visible.squeeze(1)], dim=1)
