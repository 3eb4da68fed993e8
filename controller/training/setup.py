"""Everything a training run builds before its first step: the run, data, policy, datasets, optimiser.

`trainer.train` calls these in order; each is small enough to read and test on its own.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from rich.console import Console

from dexagent.controller.checkpoint import CheckpointError
from dexagent.controller.config import ACTION_QUANTILE, PolicyConfig
from dexagent.controller.data.augment import build_augments
from dexagent.controller.data.dataset import (
    IMAGE_KEYS,
    ChunkDataset,
    DatasetError,
    DemoArrays,
    EpisodeSplit,
    chunk_target_range,
    image_bytes,
    load_demo_arrays,
    observed_frames,
    split_episodes,
)
from dexagent.controller.data.on_policy import hand_reopens
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.training.checkpointing import ResumedRun, holds_run, load_run
from dexagent.controller.training.config import TrainConfig, TrainingError
from dexagent.controller.training.ema import EMA
from dexagent.controller.training.features import (
    FeatureCacheError,
    FeatureViews,
    load_or_build_feature_cache,
)
from dexagent.controller.training.schedule import warmup_cosine_scheduler
from dexagent.controller.training.warm_start import warm_start


def open_run(
    out: Path, config: TrainConfig, policy_config: PolicyConfig | None, resume: bool, console: Console
) -> tuple[TrainConfig, ResumedRun | None]:
    """The settings to train with and, for `--resume`, the run to continue (saying where it stands)."""
    if not resume:
        if holds_run(out):
            raise TrainingError(
                f"{out} already holds a training run; pass --resume to continue it or pick another --out"
            )
        if policy_config is None:
            raise TrainingError("a fresh run needs a policy config (--config sim|paper|CONFIG.json)")
        return config, None
    resumed = load_run(out, policy_config)
    config, ignored = resumed.settings(config)
    if ignored:
        console.print(f"[yellow]resume keeps the run's settings; ignored: {', '.join(ignored)}")
    if resumed.step >= config.steps:
        raise TrainingError(f"--resume: the run in {out} is at step {resumed.step}; ask for more --steps")
    console.print(f"resuming {out} from step {resumed.step} of {config.steps}")
    return config, resumed


# Images go on disk when held in memory they would take more than this share of the memory free.
IMAGES_IN_MEMORY_SHARE = 0.5


def available_memory() -> int:
    """Bytes of memory free for a new allocation (Linux's MemAvailable; elsewhere all of it)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def cameras_on_disk(
    data: str | Path, config: TrainConfig, policy_config: PolicyConfig, available: int
) -> list[str]:
    """The cameras whose images stay on disk, read per batch: those whose frozen features are cached,
    and every camera when the rest would take more than half of the `available` bytes in memory."""
    cached = (
        [camera for camera, encoder in policy_config.encoders() if encoder.frozen]
        if config.cache_features
        else []
    )
    rest = [camera for camera in IMAGE_KEYS if camera not in cached]
    if rest and image_bytes(data, rest) > IMAGES_IN_MEMORY_SHARE * available:
        return [*cached, *rest]
    return cached


def load_data(
    data: str | Path, config: TrainConfig, policy_config: PolicyConfig, resumed: ResumedRun | None
) -> tuple[DemoArrays, EpisodeSplit, dict[str, Any]]:
    """The demo arrays (images left on disk when cached features replace them or they would not fit
    in memory), the split, its record."""
    try:
        on_disk = cameras_on_disk(data, config, policy_config, available_memory())
        arrays = load_demo_arrays(data, on_disk=on_disk)
    except DatasetError as error:
        raise TrainingError(str(error)) from None
    _check_sizes(data, arrays, resumed.policy.config if resumed is not None else policy_config)
    split = split_episodes(arrays.num_episodes, config.val_fraction, config.seed)
    if config.rounds:
        split = _of_rounds(split, arrays, config.rounds, data)
    record = {
        "path": str(data),
        "fingerprint": arrays.fingerprint(),
        "train_episodes": split.train.tolist(),
        "val_episodes": split.val.tolist(),
    }
    if resumed is not None and resumed.state["data"]["fingerprint"] != record["fingerprint"]:
        raise TrainingError(
            f"--resume: {data} is not the data this run started on ({resumed.state['data']['fingerprint']} "
            f"then, {record['fingerprint']} now); start a new run with another --out"
        )
    return arrays, split, record


def _of_rounds(
    split: EpisodeSplit, arrays: DemoArrays, rounds: tuple[int, ...], data: str | Path
) -> EpisodeSplit:
    """The split's episodes collected in `rounds` (the split itself stays the store's seeded one)."""
    keep = np.isin(arrays.rounds, rounds)
    kept = EpisodeSplit(train=split.train[keep[split.train]], val=split.val[keep[split.val]])
    if len(kept.train) == 0:
        present = sorted({int(r) for r in arrays.rounds})
        raise TrainingError(
            f"--round {' '.join(map(str, rounds))}: {data} holds no training episode of those rounds "
            f"(its rounds: {', '.join(map(str, present))})"
        )
    return kept


def recovery_repeats(arrays: DemoArrays, episodes: np.ndarray, weight: int) -> np.ndarray | None:
    """int64 per episode: `weight` for an episode whose labels re-open the hand, else 1 (None: all 1)."""
    if weight == 1:
        return None
    starts = arrays.episode_starts()
    return np.array(
        [weight if hand_reopens(arrays.action[starts[e] : arrays.episode_ends[e]]) else 1 for e in episodes],
        dtype=np.int64,
    )


def _check_sizes(data: str | Path, arrays: DemoArrays, policy_config: PolicyConfig) -> None:
    """Refuse a store whose states or actions are not the size the config (or the run) was made for."""
    stored = (arrays.state.shape[1], arrays.action.shape[1])
    wanted = (policy_config.state_dim, policy_config.action_dim)
    if any(want is not None and want != have for want, have in zip(wanted, stored, strict=True)):
        raise TrainingError(
            f"{data} holds {stored[1]}-D actions and {stored[0]}-D states (the joints of the robot it "
            f"was recorded on); config {policy_config.name!r} acts in {wanted[1]} dimensions and reads "
            f"{wanted[0]}-D states: train on a store of that robot, or from a preset"
        )


def build_policy(
    arrays: DemoArrays,
    split: EpisodeSplit,
    policy_config: PolicyConfig,
    config: TrainConfig,
    console: Console,
) -> DexGraspPolicy:
    """A fresh policy with a normaliser from the training episodes (and `init_from`'s weights)."""
    torch.manual_seed(config.seed)  # the same initial weights for the same seed
    # Sized by the data: each camera's frames, and one state and action value per joint of its robot.
    policy_config = dataclasses.replace(
        policy_config,
        camera_size=arrays.image_size,
        wrist_camera_size=arrays.wrist_size,
        state_dim=arrays.state.shape[1],
        action_dim=arrays.action.shape[1],
    )
    train_frames = arrays.frames_of(split.train)
    per_offset = policy_config.action_range == "per_offset"
    low, high = chunk_target_range(
        arrays, train_frames, policy_config.horizon, relative=policy_config.action_mode == "delta",
        per_offset=per_offset, quantile=ACTION_QUANTILE if per_offset else 0.0,
    )  # fmt: skip
    states = arrays.state[train_frames]
    policy = DexGraspPolicy(policy_config, Normalizer(states.min(0), states.max(0), low, high))
    if config.init_from:
        try:
            started = warm_start(policy, config.init_from)
        except CheckpointError as error:
            raise TrainingError(str(error)) from None
        console.print(f"weights from {config.init_from}: {started.summary()}")
    return policy


def build_datasets(
    data: str | Path,
    arrays: DemoArrays,
    split: EpisodeSplit,
    policy: DexGraspPolicy,
    config: TrainConfig,
    accelerator: Accelerator,
    console: Console,
) -> tuple[ChunkDataset, ChunkDataset | None]:
    """Training and validation samples; frozen encoders' features come from the cache when asked."""
    main = accelerator.is_main_process
    features = None
    if config.cache_features:
        with accelerator.main_process_first():
            observed = observed_frames(arrays, np.arange(arrays.num_episodes), config.obs_stride)
            try:
                views = FeatureViews(config.feature_views, config.augment, config.seed)
                features, cache_path = load_or_build_feature_cache(
                    data, policy, arrays, observed, views=views, build=main, device=accelerator.device,
                    on_progress=CacheProgress(console) if main else None,
                )  # fmt: skip
            except FeatureCacheError as error:
                raise TrainingError(str(error)) from None
        if main:
            console.print(f"frozen features cached in {cache_path}")
    pcfg = policy.config
    trainable_cameras = tuple(camera for camera, encoder in pcfg.encoders() if not encoder.frozen)
    common: dict[str, Any] = dict(
        horizon=pcfg.horizon,
        image_size=pcfg.image_size,
        wrist_size=pcfg.wrist_input_size,
        features=features,
        stride=config.obs_stride,
    )
    train_set = ChunkDataset(
        arrays,
        split.train,
        augments=build_augments(config.augment),
        augment_cameras=trainable_cameras,
        episode_repeats=recovery_repeats(arrays, split.train, config.recovery_weight),
        **common,
    )
    val_set = ChunkDataset(arrays, split.val, **common) if len(split.val) else None
    return train_set, val_set


@dataclass
class Optimisation:
    """The optimiser, its schedule and the EMA, at the step the loop starts from."""

    trainable: list[torch.nn.Parameter]
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    ema: EMA
    start: int


def build_optimisation(
    policy: DexGraspPolicy, config: TrainConfig, resumed: ResumedRun | None
) -> Optimisation:
    """AdamW on the trainable parameters, warm-up + cosine, EMA; a resumed run's states restored."""
    trainable = [param for param in policy.parameters() if param.requires_grad]
    optimizer = torch.optim.AdamW(
        trainable, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
    )
    scheduler = warmup_cosine_scheduler(optimizer, config.warmup_steps, config.steps)
    ema = EMA(policy, max_decay=config.ema_max_decay, power=config.ema_power)
    start = 0
    if resumed is not None:
        resumed.restore(optimizer, scheduler, ema, config.steps)
        start = resumed.step
    return Optimisation(trainable, optimizer, scheduler, ema, start)


class CacheProgress:
    """Prints the feature cache's progress every 5% with frames/s and the time left."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.perf_counter()
        self.next_share = 0.05

    def __call__(self, done: int, total: int) -> None:
        if done / total + 1e-9 < self.next_share and done != total:
            return
        elapsed = time.perf_counter() - self.started
        rate = done / max(elapsed, 1e-9)
        self.console.print(
            f"feature cache: {done}/{total} frames, {rate:.1f} frames/s, "
            f"{(total - done) / rate / 60:.1f} min left"
        )
        self.next_share = done / total + 0.05
