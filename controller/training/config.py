"""The training run's settings (not the model's: that is the policy config)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


class TrainingError(ValueError):
    """A training run cannot start or continue: bad settings, data, or checkpoint."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule, EMA, validation and checkpoint settings.

    Defaults follow DexGraspVLA / diffusion_policy: AdamW lr 1e-4, betas (0.95, 0.999),
    weight decay 1e-6, cosine schedule after a warm-up, EMA with power 0.75.
    """

    steps: int = 10_000
    batch_size: int = 64
    lr: float = 1e-4
    weight_decay: float = 1e-6
    betas: tuple[float, float] = (0.95, 0.999)
    warmup_steps: int = 500
    grad_clip: float = 1.0
    ema_max_decay: float = 0.9999
    ema_power: float = 0.75
    val_fraction: float = 0.1
    val_every: int = 500
    val_batches: int = 4
    save_every: int = 1000
    log_every: int = 10
    seed: int = 0
    cache_features: bool = False
    # Probability per image of a random convolution on trainable-encoder RGB (0: colour jitter only).
    random_conv: float = 0.0
    # Probability per sample of re-texturing the table top in trainable-encoder RGB (augment.py).
    retexture_table: float = 0.0
    # Fraction of re-textured batches whose tables are two-colour tiles instead of smooth fields.
    retexture_tiles: float = 0.0
    # Probability per sample of re-lighting trainable-encoder RGB (dim, tinted, uneven; augment.py).
    relight: float = 0.0
    workers: int = 0
    # A checkpoint folder whose weights the run starts from (controller/training/warm_start.py).
    init_from: str = ""

    def __post_init__(self) -> None:
        positive = ("steps", "batch_size", "val_every", "val_batches", "save_every", "log_every")
        problems = [
            f"{name} must be positive, got {getattr(self, name)}"
            for name in positive
            if getattr(self, name) <= 0
        ]
        if self.lr <= 0:
            problems.append(f"lr must be positive, got {self.lr}")
        if self.warmup_steps < 0 or self.workers < 0 or self.weight_decay < 0 or self.grad_clip <= 0:
            problems.append("warmup_steps, workers and weight_decay must be >= 0 and grad_clip > 0")
        if not 0.0 <= self.random_conv <= 1.0:
            problems.append(f"random_conv must be in [0, 1], got {self.random_conv}")
        if not 0.0 <= self.retexture_table <= 1.0:
            problems.append(f"retexture_table must be in [0, 1], got {self.retexture_table}")
        if not 0.0 <= self.retexture_tiles <= 1.0:
            problems.append(f"retexture_tiles must be in [0, 1], got {self.retexture_tiles}")
        if not 0.0 <= self.relight <= 1.0:
            problems.append(f"relight must be in [0, 1], got {self.relight}")
        if not 0.0 <= self.val_fraction < 1.0:
            problems.append(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if problems:
            raise TrainingError("invalid training settings: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
