"""Saving a training run into its output folder and picking it up again with `--resume`.

The folder is an ordinary policy checkpoint (`checkpoint.save_checkpoint`: model.safetensors
holding the **EMA** weights, which inference uses, + config.json + normalizer.json)
plus the training state (training_state.safetensors/.json, written by save_checkpoint): the raw
weights, optimizer, scheduler, EMA, RNG, step, the settings and the data split. Each save
is committed as a unit (a manifest of every file's hash, written last) and keeps the one
before it in `previous/`: a resume after a save killed half way goes back to that one, loudly.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dexagent.controller.checkpoint import (
    MODEL_FILE,
    PREVIOUS_DIR,
    STATE_JSON_FILE,
    CheckpointError,
    TornCheckpointError,
    load_checkpoint,
    load_training_state,
    restore_previous,
    save_checkpoint,
    verify_files,
)
from dexagent.controller.config import PolicyConfig
from dexagent.controller.data.augment import check_augment
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.training.config import TrainConfig, TrainingError
from dexagent.controller.training.ema import EMA

# Settings that shape the loss curve: a resumed run keeps the saved ones so it continues exactly
# (the policy config's overrides too: the checkpoint's config.json holds what they set).
TRAJECTORY_FIELDS = (
    "batch_size",
    "lr",
    "weight_decay",
    "betas",
    "warmup_steps",
    "grad_clip",
    "ema_max_decay",
    "ema_power",
    "val_fraction",
    "seed",
    "cache_features",
    "obs_stride",
    "augment",
    "feature_views",
    "noise_draws",
    "rounds",
    "recovery_weight",
    "policy_overrides",
)

# Settings of older runs that `augment` replaced: such a run cannot resume with the same data stream.
LEGACY_AUGMENT_FIELDS = ("random_conv", "retexture_table", "retexture_tiles", "relight")


def holds_run(out: Path) -> bool:
    """Whether `out` already holds a training run (so a fresh start would overwrite it)."""
    return (out / STATE_JSON_FILE).exists() or (out / MODEL_FILE).exists()


def trainable_weights(policy: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: param for name, param in policy.named_parameters() if param.requires_grad}


def save_run(
    out: Path,
    policy: DexGraspPolicy,
    *,
    ema: EMA,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    step: int,
    config: TrainConfig,
    data: dict[str, Any],
) -> None:
    """Write the EMA policy checkpoint with the training state (its JSON, the commit, last) into `out`."""
    rng: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    state = {
        "step": step,
        "train_config": config.to_dict(),
        "data": data,
        # Raw weights, copied before the EMA weights take their place for the model file.
        "model": {name: param.detach().clone() for name, param in trainable_weights(policy).items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "ema": ema.state_dict(),
        "rng": rng,
    }
    with ema.applied_to(policy):
        save_checkpoint(out, policy, training_state=state, keep_previous=True)


@dataclass
class ResumedRun:
    """What a resumed run starts from: the policy (raw weights loaded) and the saved state."""

    policy: DexGraspPolicy
    state: dict[str, Any]

    @property
    def step(self) -> int:
        return int(self.state["step"])

    def settings(self, requested: TrainConfig) -> tuple[TrainConfig, list[str]]:
        """`requested` with the saved trajectory fields; also the names of requested values ignored."""
        saved = self.state["train_config"]
        legacy = [name for name in LEGACY_AUGMENT_FIELDS if saved.get(name)]
        if legacy:
            raise TrainingError(
                f"--resume: this run was saved by an older dexagent with per-flag augmentations "
                f"({', '.join(legacy)}); continue it with that version, or start a new run with --augment"
            )
        merged = requested.to_dict()
        defaults = TrainConfig().to_dict()  # a field newer than the run: the run trained with its default
        ignored = []
        for name in TRAJECTORY_FIELDS:
            value = saved.get(name, defaults[name])
            value = tuple(value) if name in ("betas", "policy_overrides") else value
            value = check_augment(value) if name == "augment" else value
            if merged[name] != value:
                ignored.append(f"{name}={merged[name]} (continuing with {value})")
            merged[name] = value
        return TrainConfig(**merged), ignored

    def restore(self, optimizer: torch.optim.Optimizer, scheduler: Any, ema: EMA, total_steps: int) -> None:
        """Load optimizer, scheduler and EMA states; a mismatch raises TrainingError."""
        try:
            optimizer.load_state_dict(self.state["optimizer"])
            scheduler.load_state_dict(self.state["scheduler"])
            ema.load_state_dict(self.state["ema"])
        except (ValueError, KeyError, RuntimeError) as error:
            raise TrainingError(f"the training state does not fit this model: {error}") from None
        # More steps than first planned stretch the cosine schedule to the new end.
        for schedule in getattr(scheduler, "lr_lambdas", []):
            if hasattr(schedule, "total_steps"):
                schedule.total_steps = total_steps
        rng = self.state.get("rng", {})
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if "cuda" in rng and torch.cuda.is_available() and len(rng["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(rng["cuda"])


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def load_run(out: Path, requested: PolicyConfig | None, warn: Callable[[str], None] = _warn) -> ResumedRun:
    """Open the run in `out` for `--resume`; a missing, corrupt or mismatched run raises TrainingError.

    A save that was killed half way is detected (the manifest does not describe the files): the
    checkpoint kept before it is put back and the run continues from there, and `warn` says so."""
    if not out.is_dir():
        raise TrainingError(f"--resume: {out} does not exist; there is no run to continue")
    try:
        verify_files(out)
    except TornCheckpointError as torn:
        try:
            restore_previous(out)
        except CheckpointError as error:
            raise TrainingError(f"--resume: {torn}; {error}") from None
        warn(
            f"the last save in {out} was interrupted ({torn}); continuing from the checkpoint "
            f"saved before it, {out / PREVIOUS_DIR}, which is now back in place"
        )
    try:
        policy = load_checkpoint(out)
        state = load_training_state(out)
    except CheckpointError as error:
        raise TrainingError(f"--resume: {error}") from None
    if not isinstance(state, dict):
        raise TrainingError(
            f"--resume: {out / STATE_JSON_FILE} is missing; this checkpoint cannot be continued"
        )
    if requested is not None:
        # The trainer sets the camera size and the joint counts from the data; a preset leaves them open.
        sized = ("camera_size", "wrist_camera_size", "state_dim", "action_dim")
        requested = dataclasses.replace(
            requested,
            **{key: getattr(policy.config, key) for key in sized if getattr(requested, key) is None},
        )
    if requested is not None and requested.to_dict() != policy.config.to_dict():
        saved, asked = policy.config.to_dict(), requested.to_dict()
        differing = sorted(key for key in asked if asked[key] != saved.get(key))
        raise TrainingError(
            f"--resume: the checkpoint in {out} was trained with config {policy.config.name!r}, "
            f"which differs from the requested {requested.name!r} in {differing}; "
            "drop --config and --set to go on"
        )
    for key in ("step", "train_config", "data", "model", "optimizer", "scheduler", "ema"):
        if key not in state:
            raise TrainingError(f"--resume: {out / STATE_JSON_FILE} lacks {key!r}")
    weights = state["model"]
    expected = trainable_weights(policy)
    if set(weights) != set(expected):
        missing, extra = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
        raise TrainingError(
            f"--resume: the training state's weights do not match the model "
            f"(missing {missing[:3]}, unexpected {extra[:3]})"
        )
    with torch.no_grad():
        for name, param in expected.items():
            if weights[name].shape != param.shape:
                raise TrainingError(
                    f"--resume: weight {name} is {tuple(weights[name].shape)} in the training state, "
                    f"{tuple(param.shape)} in the model"
                )
            param.copy_(weights[name])
    return ResumedRun(policy=policy, state=state)
