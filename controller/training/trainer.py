"""The training loop: data, policy, AdamW + warm-up cosine, EMA, validation, checkpoints, logs.

Built on accelerate's `Accelerator` throughout, so the same code runs as one CPU
process (the default) or under `accelerate launch` on several GPUs; the step and the
frozen encoders each run in their own precision (controller/precision.py: bf16 on GPUs).
Every random draw is tied to (seed, step, rank): batch samples and colour jitter through
the dataset's step addressing, diffusion noise by reseeding torch before each step, so
`--resume` reproduces the uninterrupted loss curve exactly.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from rich.console import Console

from dexagent.controller.config import PolicyConfig
from dexagent.controller.data.dataset import (
    ChunkDataset,
    DemoArrays,
    EpisodeSplit,
    StepBatches,
    batch_positions,
)
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.precision import Precision, autocast, check_choice, resolve_precision
from dexagent.controller.training.checkpointing import save_run
from dexagent.controller.training.config import TrainConfig, TrainingError
from dexagent.controller.training.ema import EMA
from dexagent.controller.training.interrupt import StopRequest
from dexagent.controller.training.progress import TrainingLog
from dexagent.controller.training.setup import (
    Optimisation,
    build_datasets,
    build_optimisation,
    build_policy,
    load_data,
    open_run,
)

Batch = dict[str, torch.Tensor]


@dataclass
class TrainResult:
    """What a run did: its last step, per-step losses (this call only) and speed."""

    out: Path
    step: int
    losses: list[tuple[int, float]] = field(default_factory=list)  # (step, training loss)
    val_losses: list[tuple[int, float]] = field(default_factory=list)  # (step, EMA validation loss)
    seconds_per_step: float = 0.0  # mean wall time of a step, the first (warm-up) step excluded
    samples_per_second: float = 0.0
    # CPU seconds of this process per step (all its threads): a speed figure that a busy,
    # shared machine distorts less than wall time.
    cpu_seconds_per_step: float = 0.0
    interrupted: bool = False


class _LossOf(torch.nn.Module):
    """Makes `compute_loss` the module's forward, so DDP's gradient sync sees the call; runs it in
    the step's precision (bf16 autocast computes in bf16 from the fp32 weights the optimizer keeps)."""

    def __init__(self, policy: DexGraspPolicy, noise_draws: int, precision: Precision) -> None:
        super().__init__()
        self.policy = policy
        self.noise_draws = noise_draws
        self.precision = precision

    def forward(self, batch: Batch) -> torch.Tensor:
        with autocast(self.precision, self.policy.device):
            return self.policy.compute_loss(batch, self.noise_draws)


# How to start N processes, for the refusal below and the README.
LAUNCH_HELP = (
    "launch with `accelerate launch --multi_gpu --num_processes N -m dexagent.cli.app train ...` or "
    "`torchrun --nproc_per_node N -m dexagent.cli.app train ...` on GPUs; on CPUs, "
    "`ACCELERATE_USE_CPU=true torchrun --nproc_per_node N -m dexagent.cli.app train ...`"
)


def _check_launch(accelerator: Accelerator) -> None:
    """Refuse a launch whose processes do not see each other: torchrun on a machine without GPUs
    starts N processes that accelerate runs as N single-process runs, each training an unsharded
    copy and writing the same checkpoint folder."""
    launched = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if launched != accelerator.num_processes:
        raise TrainingError(
            f"this process was launched as one of {launched} (WORLD_SIZE={launched}), but training "
            f"sees {accelerator.num_processes} process(es) ({accelerator.distributed_type.value}), so "
            f"each would train its own copy into the same folder; {LAUNCH_HELP}"
        )


def _step_seed(seed: int, step: int, rank: int) -> int:
    return (seed * 1_000_003 + step) * 1024 + rank


def _to(batch: Batch, device: torch.device) -> Batch:
    return {key: value.to(device, non_blocking=True) for key, value in batch.items()}


def _batches(source: StepBatches, start: int, stop: int, workers: int, pin: bool) -> Iterator[Batch]:
    """Batches of steps start..stop-1, built in `workers` processes when asked."""
    if workers == 0:
        return (source[step] for step in range(start, stop))
    loader = torch.utils.data.DataLoader(
        source,
        batch_size=None,
        sampler=range(start, stop),
        num_workers=workers,
        pin_memory=pin,
        # Its own generator: the loader must not draw from the global RNG the noise comes from.
        generator=torch.Generator().manual_seed(0),
        prefetch_factor=4,
    )
    return iter(loader)


def _validate(
    policy: DexGraspPolicy,
    ema: EMA,
    val_set: ChunkDataset,
    config: TrainConfig,
    accelerator: Accelerator,
    precision: Precision,
) -> float:
    """Mean loss of the EMA weights over fixed validation batches with fixed noise."""
    devices = [accelerator.device] if accelerator.device.type == "cuda" else []
    losses = []
    with ema.applied_to(policy), torch.random.fork_rng(devices=devices), torch.no_grad():
        policy.eval()
        torch.manual_seed(config.seed)
        for index in range(config.val_batches):
            positions = batch_positions(index, config.batch_size, len(val_set), config.seed)
            with autocast(precision, accelerator.device):
                losses.append(float(policy.compute_loss(_to(val_set.batch(positions), accelerator.device))))
        policy.train()
    return float(np.mean(losses))


@dataclass
class _Prepared:
    """What the step loop runs on: built once by `_prepare`."""

    config: TrainConfig
    policy: DexGraspPolicy
    model: torch.nn.Module  # the policy's loss, as `accelerator.prepare` wrapped it
    optimizer: torch.optim.Optimizer
    optimisation: Optimisation
    val_set: ChunkDataset | None
    batches: Iterator[Batch]
    precision: Precision
    data_info: dict[str, Any]


def train(
    data: str | Path,
    out: str | Path,
    config: TrainConfig,
    policy_config: PolicyConfig | None = None,
    *,
    resume: bool = False,
    console: Console | None = None,
    show_progress: bool = True,
    on_step: Callable[[int, float], bool | None] | None = None,
) -> TrainResult:
    """Train a policy on the demo store at `data` into `out`; see `dexagent train --help`.

    `policy_config` is required for a fresh run; with `resume` it is optional and must match
    the checkpoint's. `on_step(step, loss)` returning True stops the run after saving.
    """
    out = Path(out)
    console = console or Console()
    # Mixed precision is ours (`_LossOf`), per stage, not accelerate's one switch for the process.
    accelerator = Accelerator(mixed_precision="no")
    _check_launch(accelerator)  # before anything is written: never N copies writing one run folder
    main = accelerator.is_main_process
    quiet = console if main else Console(quiet=True)
    run, arrays, split, train_set = _prepare(data, out, config, policy_config, resume, accelerator, quiet)
    config, world = run.config, accelerator.num_processes
    log = TrainingLog(
        out, console, total=config.steps, start=run.optimisation.start, enabled=main,
        show_progress=show_progress, samples_per_step=config.batch_size * world, log_to=config.log_to,
        run_config={"train": config.to_dict(), "policy": run.policy.config.to_dict()},
    )  # fmt: skip
    if main:
        log.describe(arrays, split, train_set, run.policy, config, accelerator)
    with StopRequest(accelerator) as stop, log:
        result = _run_steps(run, out, log, stop, accelerator, on_step)
    if main:
        log.summary(result)
    return result


def _prepare(
    data: str | Path,
    out: Path,
    config: TrainConfig,
    policy_config: PolicyConfig | None,
    resume: bool,
    accelerator: Accelerator,
    quiet: Console,
) -> tuple[_Prepared, DemoArrays, EpisodeSplit, ChunkDataset]:
    """The run's settings, data, policy (fresh, warm-started or resumed), precision, datasets,
    optimiser and batch stream."""
    config, resumed = open_run(out, config, policy_config, resume, quiet)
    if resumed is not None:
        policy_config = resumed.policy.config
    if policy_config is None:  # open_run refuses a fresh run without one
        raise TrainingError("a fresh run needs a policy config")
    arrays, split, data_info = load_data(data, config, policy_config, resumed)
    policy = (
        resumed.policy if resumed is not None else build_policy(arrays, split, policy_config, config, quiet)
    )
    policy.to(accelerator.device)
    policy.train()
    precision, precision_note = resolve_precision(
        check_choice(config.precision), "training", policy.config, accelerator.device
    )
    feature_precision, feature_note = resolve_precision(
        check_choice(config.feature_precision), "features", policy.config, accelerator.device
    )
    policy.cast_frozen_encoders(feature_precision)
    frozen = any(encoder.frozen for _, encoder in policy.config.encoders())
    quiet.print(precision_note + (f"; frozen encoders: {feature_note}" if frozen else ""))
    train_set, val_set = build_datasets(data, arrays, split, policy, config, accelerator, quiet)
    optimisation = build_optimisation(policy, config, resumed)
    model, optimizer = accelerator.prepare(
        _LossOf(policy, config.noise_draws, precision), optimisation.optimizer
    )
    rank, world = accelerator.process_index, accelerator.num_processes
    source = StepBatches(train_set, config.batch_size, config.seed, rank, world)
    cuda = accelerator.device.type == "cuda"
    batches = _batches(source, optimisation.start, config.steps, config.workers, cuda)
    run = _Prepared(config, policy, model, optimizer, optimisation, val_set, batches, precision, data_info)
    return run, arrays, split, train_set


def _run_steps(
    run: _Prepared,
    out: Path,
    log: TrainingLog,
    stop: StopRequest,
    accelerator: Accelerator,
    on_step: Callable[[int, float], bool | None] | None,
) -> TrainResult:
    """The optimisation steps from where the run stands: validation and checkpoints on schedule,
    a stop request saved at once; the result with the run's speed."""
    config, policy, optimizer = run.config, run.policy, run.optimizer
    ema, scheduler = run.optimisation.ema, run.optimisation.scheduler
    main, rank = accelerator.is_main_process, accelerator.process_index
    result = TrainResult(out=out, step=run.optimisation.start)

    def checkpoint(step: int) -> None:
        if main:
            save_run(
                out, policy, ema=ema, optimizer=optimizer, scheduler=scheduler, step=step,
                config=config, data=run.data_info,
            )  # fmt: skip
        accelerator.wait_for_everyone()

    step_times: list[float] = []
    cpu_times: list[float] = []
    for step in range(run.optimisation.start, config.steps):
        tick, cpu_tick = time.perf_counter(), time.process_time()
        batch = _to(next(run.batches), accelerator.device)
        torch.manual_seed(_step_seed(config.seed, step, rank))
        loss = run.model(batch)
        accelerator.backward(loss)
        if accelerator.sync_gradients:
            accelerator.clip_grad_norm_(run.optimisation.trainable, config.grad_clip)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        ema.update(policy)
        loss_value = float(accelerator.reduce(loss.detach(), "mean"))
        if not np.isfinite(loss_value):
            raise TrainingError(f"the training loss became {loss_value} at step {step + 1}; lower --lr")
        done = step + 1
        step_times.append(time.perf_counter() - tick)
        cpu_times.append(time.process_time() - cpu_tick)
        result.losses.append((done, loss_value))
        result.step = done
        log.step(done, loss_value, scheduler.get_last_lr()[0], step_times[-1])
        if run.val_set is not None and main and (done % config.val_every == 0 or done == config.steps):
            val_loss = _validate(policy, ema, run.val_set, config, accelerator, run.precision)
            result.val_losses.append((done, val_loss))
            log.validation(done, val_loss)
        asked = bool(on_step(done, loss_value)) if on_step is not None else False
        if stop.requested(also=asked):
            checkpoint(done)
            result.interrupted = True
            break
        if done % config.save_every == 0 or done == config.steps:
            checkpoint(done)
    timed = step_times[1:] or step_times
    if timed:
        result.seconds_per_step = float(np.mean(timed))
        result.samples_per_second = config.batch_size * accelerator.num_processes / result.seconds_per_step
        result.cpu_seconds_per_step = float(np.mean(cpu_times[1:] or cpu_times))
    return result
