"""What a training run shows and records: a rich progress bar and tensorboard logs in OUT/tb."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dexagent.controller.data.dataset import IMAGE_KEYS

if TYPE_CHECKING:
    from dexagent.controller.data.dataset import DemoArrays, EpisodeSplit
    from dexagent.controller.training.config import TrainConfig
    from dexagent.controller.training.trainer import TrainResult


class TrainingLog:
    """Progress bar (loss, val loss, samples/s) and tensorboard scalars; silent on non-main processes."""

    def __init__(
        self,
        out: Path,
        console: Console,
        *,
        total: int,
        start: int,
        enabled: bool,
        show_progress: bool,
        samples_per_step: int,
        log_to: tuple[str, ...] = ("tensorboard",),
        run_config: dict[str, Any] | None = None,
    ) -> None:
        self.out = out
        self.console = console
        self.total = total
        self._next_line = start + max(1, total // 20)
        self.enabled = enabled
        self.samples_per_step = samples_per_step
        self._writer: Any = None
        self._wandb: Any = None
        self.log_to = log_to
        self.run_config = run_config or {}
        self._seconds = 0.0
        self._window = 0
        self._progress = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4f}"),
            TextColumn("val {task.fields[val]}"),
            TextColumn("{task.fields[rate]:.0f} samples/s"),
            TimeRemainingColumn(),
            console=console,
            disable=not (enabled and show_progress),
        )
        self._task = self._progress.add_task(
            "train", total=total, completed=start, loss=float("nan"), val="-", rate=0.0
        )

    def __enter__(self) -> TrainingLog:
        if self.enabled and "tensorboard" in self.log_to:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.out / "tb"))
        if self.enabled and "wandb" in self.log_to:
            self._wandb = _start_wandb(self.out, self.run_config)
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()
        if self._writer is not None:
            self._writer.close()
        if self._wandb is not None:
            self._wandb.finish()

    def _scalars(self, step: int, values: dict[str, float]) -> None:
        if self._writer is not None:
            for name, value in values.items():
                self._writer.add_scalar(name, value, step)
        if self._wandb is not None:
            self._wandb.log(values, step=step)

    def describe(
        self,
        arrays: DemoArrays,
        split: EpisodeSplit,
        train_set: Any,
        policy: Any,
        config: TrainConfig,
        accelerator: Any,
    ) -> None:
        """One block of what is about to happen, and a warning for settings that cannot do what they say."""
        trainable = sum(p.numel() for p in policy.parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in policy.parameters() if not p.requires_grad)
        sampling = f", every {config.obs_stride}th frame" if config.obs_stride > 1 else ""
        augment = ", ".join(f"{name} {p:g}" for name, p in config.augment) or "none"
        if config.feature_views > 1:
            augment += f" (frozen encoders: {config.feature_views} cached views per frame)"
        draws = f", {config.noise_draws} noise draws per observation" if config.noise_draws > 1 else ""
        if config.rounds:
            sampling += f", rounds {', '.join(map(str, config.rounds))}"
        if config.recovery_weight > 1:
            sampling += f", episodes that re-open the hand drawn {config.recovery_weight}x"
        from_disk = [
            camera
            for camera in IMAGE_KEYS
            if not isinstance(getattr(arrays, camera), np.ndarray)
            and camera.replace("_rgb", "_features") not in getattr(train_set, "features", {})
        ]
        if from_disk:
            sampling += f"; {' and '.join(from_disk)} read from disk per batch (too large for memory)"
        if config.steps < config.warmup_steps:
            self.console.print(
                f"[yellow]warning: --steps {config.steps} ends inside the {config.warmup_steps}-step "
                f"learning-rate warm-up: the run never trains at the full rate (lower --warmup)"
            )
        self.console.print(
            f"data {arrays.source}: {arrays.num_episodes} episodes, {arrays.num_frames} frames "
            f"({len(split.train)} train / {len(split.val)} val episodes; {len(train_set)} training "
            f"samples{sampling}); augment: {augment}\n"
            f"policy {policy.config.name!r}: {trainable / 1e6:.2f}M trainable, "
            f"{frozen / 1e6:.2f}M frozen parameters\n"
            f"{config.steps} steps, batch {config.batch_size} x {accelerator.num_processes} process(es) on "
            f"{accelerator.device}{draws} -> {self.out}"
        )

    def step(self, step: int, loss: float, lr: float, seconds: float) -> None:
        if not self.enabled:
            return
        self._seconds += seconds
        self._window += 1
        rate = self.samples_per_step * self._window / max(self._seconds, 1e-9)
        if self._window >= 20:  # a moving window: the rate follows slow-downs
            self._seconds, self._window = self._seconds / 2, self._window // 2
        self._progress.update(self._task, completed=step, loss=loss, rate=rate)
        if not self.console.is_terminal and step >= self._next_line:  # logs to a file: a line per 5%
            left = (self.total - step) * self.samples_per_step / max(rate, 1e-9)
            self.console.print(
                f"step {step}/{self.total}: loss {loss:.4f}, lr {lr:.2e}, {rate:.0f} samples/s, "
                f"{left / 60:.0f} min left"
            )
            self._next_line = step + max(1, self.total // 20)
        self._scalars(step, {"train/loss": loss, "train/lr": lr, "train/samples_per_s": rate})

    def validation(self, step: int, loss: float) -> None:
        if not self.enabled:
            return
        self._progress.update(self._task, val=f"{loss:.4f}")
        self._scalars(step, {"val/loss": loss})

    def summary(self, result: TrainResult) -> None:
        last = result.losses[-1][1] if result.losses else float("nan")
        val = f", val loss {result.val_losses[-1][1]:.4f}" if result.val_losses else ""
        state = "stopped early (continue with --resume)" if result.interrupted else "done"
        self.console.print(
            f"{state}: step {result.step}, loss {last:.4f}{val}; {result.seconds_per_step:.3f} s/step, "
            f"{result.samples_per_second:.0f} samples/s ({result.cpu_seconds_per_step:.3f} CPU s/step); "
            f"checkpoint in {self.out}"
        )


def _start_wandb(out: Path, run_config: dict[str, Any]) -> Any:
    """A Weights & Biases run writing under OUT/wandb (offline with WANDB_MODE=offline)."""
    try:
        import wandb
    except ImportError:
        from dexagent.controller.training.config import TrainingError

        raise TrainingError("--log-to wandb needs the wandb package: pip install 'dexagent[wandb]'") from None
    (out / "wandb").mkdir(parents=True, exist_ok=True)
    return wandb.init(
        project="dexagent", name=out.name, dir=str(out), config=run_config, resume="allow", id=_run_id(out)
    )


def _run_id(out: Path) -> str:
    """One W&B run per output folder, so --resume continues the same run's curves."""
    import hashlib

    return hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:16]
