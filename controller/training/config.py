"""The training run's settings (not the model's: that is the policy config)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from dexagent.controller.data.augment import DEFAULT_AUGMENT, AugmentError, check_augment
from dexagent.controller.precision import PrecisionError, check_choice

LOGGERS = ("tensorboard", "wandb")


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
    # Train from every n-th frame of each episode (action chunks still use every frame's action).
    obs_stride: int = 1
    # Augmentations of trainable-encoder RGB as (type, probability) pairs, applied in this order
    # (controller/data/augment.py: retexture_table, relight, color_jitter, random_conv).
    augment: tuple[tuple[str, float], ...] = DEFAULT_AUGMENT
    # With cache_features: encode each frame this many times, as recorded and through `augment`
    # (controller/training/features.py), so frozen encoders see the augmentations too.
    feature_views: int = 1
    workers: int = 0
    # Where scalars go besides the progress bar: "tensorboard" (OUT/tb) and/or "wandb" (Weights &
    # Biases; WANDB_MODE=offline writes a local run that `wandb sync` uploads later).
    log_to: tuple[str, ...] = ("tensorboard",)
    # A checkpoint folder whose weights the run starts from (controller/training/warm_start.py).
    init_from: str = ""
    # The `--set FIELD=VALUE` overrides applied to the policy config's preset (its `name`): the
    # run's recipe. The values they set live in the checkpoint's config.json, which --resume keeps.
    policy_overrides: tuple[str, ...] = ()
    # Diffusion (timestep, noise) draws per encoded observation: the encoders run once per sample,
    # the DiT loss K times (controller/policy.py `compute_loss`).
    noise_draws: int = 1
    # Which collection rounds of the store to train and validate on (empty: every round), e.g.
    # (0, 3, 4) to leave out rounds whose labels a since-fixed expert wrote.
    rounds: tuple[int, ...] = ()
    # Training episodes whose labels re-open the hand (an expert's recovery after a missed close,
    # controller/data/on_policy.py) are drawn this many times as often as the others.
    recovery_weight: int = 1
    # The training step's precision ("bf16": autocast; the optimizer's weights and state stay fp32)
    # and the frozen encoders' (the feature cache, encoding on the fly): fp32, bf16, or "auto",
    # the measured default on the device (controller/precision.py).
    precision: str = "auto"
    feature_precision: str = "auto"

    def __post_init__(self) -> None:
        positive = (
            "steps",
            "batch_size",
            "val_every",
            "val_batches",
            "save_every",
            "log_every",
            "obs_stride",
            "feature_views",
            "noise_draws",
            "recovery_weight",
        )
        problems = [
            f"{name} must be positive, got {getattr(self, name)}"
            for name in positive
            if getattr(self, name) <= 0
        ]
        if self.lr <= 0:
            problems.append(f"lr must be positive, got {self.lr}")
        if self.warmup_steps < 0 or self.workers < 0 or self.weight_decay < 0 or self.grad_clip <= 0:
            problems.append("warmup_steps, workers and weight_decay must be >= 0 and grad_clip > 0")
        object.__setattr__(self, "log_to", tuple(self.log_to))
        object.__setattr__(self, "policy_overrides", tuple(self.policy_overrides))
        object.__setattr__(self, "rounds", tuple(sorted({int(r) for r in self.rounds})))
        if any(r < 0 for r in self.rounds):
            problems.append(f"rounds must be >= 0, got {list(self.rounds)}")
        unknown = sorted(set(self.log_to) - set(LOGGERS))
        if unknown:
            problems.append(f"log_to: unknown {unknown}; choose from {list(LOGGERS)}")
        try:  # JSON gives lists; the config keeps tuples so it compares and hashes as data
            object.__setattr__(self, "augment", check_augment(self.augment))
        except AugmentError as error:
            problems.append(str(error))
        if self.feature_views > 1 and not self.cache_features:
            problems.append("feature_views > 1 needs cache_features (the views are cached features)")
        for name in ("precision", "feature_precision"):
            try:
                check_choice(getattr(self, name), name)
            except PrecisionError as error:
                problems.append(str(error))
        if not 0.0 <= self.val_fraction < 1.0:
            problems.append(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if problems:
            raise TrainingError("invalid training settings: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
