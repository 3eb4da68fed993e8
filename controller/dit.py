"""The diffusion transformer over an action chunk, predicting the noise (epsilon).

Each block: adaLN-Zero conditioning on the timestep (and, with `global_condition`, on the
observation's last token: the state and target position, FiLM-style as in diffusion_policy),
self-attention over the H action tokens, cross-attention to the observation tokens, MLP.
The cross-attention keys/values depend only on the observation, so `context_kv` computes
them once per chunk and every denoising step reuses them (the optimized sampling path).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dexagent.controller.config import DiTConfig

# Per block: (key, value) of the observation tokens, each (B, heads, T, head_dim).
ContextKV = list[tuple[torch.Tensor, torch.Tensor]]
# adaLN parameters of N (timestep, condition) rows: per block (N, 9W), then the output layer's (N, 2W).
Modulation = tuple[list[torch.Tensor], torch.Tensor]


def timestep_embedding(timesteps: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of diffusion timesteps (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(10000.0) * torch.arange(half, device=timesteps.device, dtype=torch.float32) / half
    )
    args = timesteps.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale[:, None]) + shift[:, None]


def _zero_linear(in_dim: int, out_dim: int) -> nn.Linear:
    layer = nn.Linear(in_dim, out_dim)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class _Attention(nn.Module):
    """Multi-head attention whose key/value projection can run separately from the query side."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.out = nn.Linear(width, width)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        return x.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

    def key_value(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """context (B, T, W) -> key, value (B, heads, T, W/heads)."""
        key, value = self.kv(context).chunk(2, dim=-1)
        return self._split(key), self._split(value)

    def forward(self, x: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        query = self._split(self.q(x))
        attended = F.scaled_dot_product_attention(query, key, value)
        batch, _, length, _ = attended.shape
        return self.out(attended.transpose(1, 2).reshape(batch, length, -1))


class DiTBlock(nn.Module):
    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        width = config.width
        self.norm_self = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.self_attn = _Attention(width, config.heads)
        self.norm_cross = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.norm_context = nn.LayerNorm(width)
        self.cross_attn = _Attention(width, config.heads)
        self.norm_mlp = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        hidden = int(width * config.mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(width, hidden),
            nn.GELU(approximate="tanh"),
            nn.Dropout(config.dropout),
            nn.Linear(hidden, width),
        )
        # adaLN-Zero: shift/scale/gate for the three sub-layers, zero-initialised so every
        # block starts as the identity (stable early training, as in DiT).
        self.ada = nn.Sequential(nn.SiLU(), _zero_linear(width, 9 * width))

    def context_kv(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cross_attn.key_value(self.norm_context(context))

    def forward(
        self, x: torch.Tensor, modulation: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor]
    ) -> torch.Tensor:
        """x (B, H, W), modulation (B, 9W) from `ada(cond)`, kv from `context_kv`."""
        s1, c1, g1, s2, c2, g2, s3, c3, g3 = modulation.chunk(9, dim=-1)
        h = _modulate(self.norm_self(x), s1, c1)
        x = x + g1[:, None] * self.self_attn(h, *self.self_attn.key_value(h))
        h = _modulate(self.norm_cross(x), s2, c2)
        x = x + g2[:, None] * self.cross_attn(h, *kv)
        h = _modulate(self.norm_mlp(x), s3, c3)
        return x + g3[:, None] * self.mlp(h)


class ActionDiT(nn.Module):
    """Noisy action chunk (B, H, A) + timestep (B,) + observation K/V -> predicted noise (B, H, A)."""

    def __init__(
        self, config: DiTConfig, horizon: int, action_dim: int, *, global_condition: bool = False
    ) -> None:
        """`global_condition`: the last observation token also drives every block's adaLN."""
        super().__init__()
        width = config.width
        self.action_in = nn.Linear(action_dim, width)
        self.action_pos = nn.Parameter(torch.zeros(1, horizon, width))
        nn.init.trunc_normal_(self.action_pos, std=0.02)
        self.time_mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.cond_proj = nn.Linear(width, width) if global_condition else None
        self.blocks: list[DiTBlock] = nn.ModuleList(DiTBlock(config) for _ in range(config.depth))  # type: ignore[assignment]
        self.norm_out = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.ada_out = nn.Sequential(nn.SiLU(), _zero_linear(width, 2 * width))
        self.action_out = _zero_linear(width, action_dim)
        self.width = width

    def context_kv(self, context: torch.Tensor) -> ContextKV:
        """Observation tokens (B, T, W) -> per-block cross-attention key/value, computed once."""
        return [block.context_kv(context) for block in self.blocks]

    def global_cond(self, context: torch.Tensor) -> torch.Tensor | None:
        """The adaLN condition from the observation tokens (B, T, W): their last (state) token."""
        return self.cond_proj(context[:, -1]) if self.cond_proj is not None else None

    def modulation(self, timesteps: torch.Tensor, cond: torch.Tensor | None = None) -> Modulation:
        """The adaLN parameters of timesteps (N,) with `global_cond` rows (N, W). A sampler
        computes them for all its DDIM steps in one batched pass."""
        embedding = self.time_mlp(timestep_embedding(timesteps, self.width))
        if cond is not None:
            embedding = embedding + cond
        return [block.ada(embedding) for block in self.blocks], self.ada_out(embedding)

    def forward(
        self,
        noisy_actions: torch.Tensor,
        timesteps: torch.Tensor,
        kv: ContextKV,
        modulation: Modulation | None = None,
        cond: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predicted noise (B, H, A); `modulation` (rows for this batch) skips the adaLN MLPs,
        else they run on `timesteps` and `cond` (from `global_cond`)."""
        block_mods, out_mod = modulation if modulation is not None else self.modulation(timesteps, cond)
        x = self.action_in(noisy_actions) + self.action_pos
        for block, block_kv, block_mod in zip(self.blocks, kv, block_mods, strict=True):
            x = block(x, block_mod, block_kv)
        shift, scale = out_mod.chunk(2, dim=-1)
        return self.action_out(_modulate(self.norm_out(x), shift, scale))
