"""`dexagent train`: train the DiT controller on a demo store (one CPU process or `accelerate launch`)."""

from __future__ import annotations

from pathlib import Path

import typer

from dexagent.cli.app import app
from dexagent.cli.errors import console, fail
from dexagent.controller.config import config_names  # stdlib only: cheap at start-up

EXIT_INTERRUPTED = 130
DEFAULT_STEPS = 10_000


# Options whose value, when not given, `--resume` takes from the run (option name -> TrainConfig field).
RESUMED_OPTIONS = {
    "steps": "steps",
    "batch": "batch_size",
    "lr": "lr",
    "warmup": "warmup_steps",
    "seed": "seed",
    "cache_features": "cache_features",
    "obs_stride": "obs_stride",
    "augment": "augment",
    "feature_views": "feature_views",
    "noise_draws": "noise_draws",
    "rounds": "rounds",
    "recovery_weight": "recovery_weight",
    "overrides": "policy_overrides",
}


def _saved_settings(out: Path) -> dict[str, object]:
    """The training settings the run in `out` was saved with; empty when they cannot be read
    (training then says what is wrong with the run)."""
    from dexagent.controller.checkpoint import CheckpointError, load_training_state

    try:
        saved = load_training_state(out)["train_config"]  # type: ignore[index]
    except (CheckpointError, KeyError, TypeError):
        return {}
    return dict(saved) if isinstance(saved, dict) else {}


def _given(ctx: typer.Context, option: str) -> bool:
    """Whether the user passed `option` (rather than it taking its default)."""
    source = ctx.get_parameter_source(option)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


@app.command("train")
def train_command(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", help="Demo store written by `dexagent collect` (zarr folder)."),
    out: Path = typer.Option(
        ..., "--out", help="Run folder: the checkpoint (latest), its training state, tb/ logs."
    ),
    config: str | None = typer.Option(
        None,
        "--config",
        help=f"Policy config: {' | '.join(config_names())} | CONFIG.json. "
        "Default sim; with --resume, the run's.",
    ),
    overrides: list[str] | None = typer.Option(
        None,
        "--set",
        help="Override one field of the policy config as FIELD=VALUE, dotted into its parts, repeatable: "
        "--set dit.depth=6 --set head_encoder.pool=1 (`dexagent controller info CONFIG --set ...` shows "
        "the result). The run records them; --resume keeps them, and checks any given against the run.",
    ),
    steps: int | None = typer.Option(
        None,
        "--steps",
        help=f"Total optimizer steps. Default {DEFAULT_STEPS}; with --resume, the run's total.",
    ),
    batch: int = typer.Option(64, "--batch", help="Samples per step and process."),
    lr: float = typer.Option(1e-4, "--lr", help="AdamW peak learning rate (cosine decay after warm-up)."),
    warmup: int = typer.Option(500, "--warmup", help="Linear learning-rate warm-up steps."),
    val_every: int = typer.Option(500, "--val-every", help="Steps between validation losses (EMA weights)."),
    save_every: int = typer.Option(
        1000, "--save-every", help="Steps between checkpoints (and always at the end)."
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue the run in --out exactly where it stopped; options left out keep the run's values.",
    ),
    init_from: Path | None = typer.Option(
        None,
        "--init-from",
        help="Start a fresh run from this checkpoint's weights (new state inputs start at zero).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seeds the weights, the split, batches, jitter and noise."),
    cache_features: bool = typer.Option(
        False,
        "--cache-features",
        help="Encode every frame once with the frozen encoders and train from that.",
    ),
    obs_stride: int = typer.Option(
        1, "--obs-stride", help="Train from every n-th frame of each episode (a smaller feature cache)."
    ),
    augment: list[str] | None = typer.Option(
        None,
        "--augment",
        help="An augmentation of trainable-encoder images as TYPE=PROBABILITY, repeatable, applied in "
        "the given order: retexture_table, table_pattern, relight, color_jitter, random_conv (the table "
        "ones need a sim store's table masks). Default color_jitter=1.",
    ),
    feature_views: int = typer.Option(
        1,
        "--feature-views",
        help="With --cache-features: encode each frame this many times, as recorded and through "
        "--augment, so the frozen encoders train on the augmentations too (each view costs one cache).",
    ),
    noise_draws: int = typer.Option(
        1,
        "--noise-draws",
        help="Diffusion (timestep, noise) draws per encoded observation: the encoders run once per "
        "sample and the DiT loss K times.",
    ),
    rounds: list[int] | None = typer.Option(
        None,
        "--round",
        help="Train only on the store's episodes of this collection round, repeatable "
        "(`dexagent data info` lists them). Default: every round.",
    ),
    recovery_weight: int = typer.Option(
        1,
        "--recovery-weight",
        help="Draw training episodes whose labels re-open the hand (the expert's recovery after a "
        "missed close) this many times as often as the others.",
    ),
    precision: str = typer.Option(
        "auto",
        "--precision",
        help="Training step precision: fp32 | bf16 (autocast; weights and optimizer state stay fp32) | "
        "auto (the measured default: fp32 on CPUs, bf16 on GPUs).",
    ),
    feature_precision: str = typer.Option(
        "auto",
        "--feature-precision",
        help="Frozen encoders' precision (the feature cache, encoding on the fly): fp32 | bf16 | auto "
        "(bf16 where the CPU or GPU has bf16 units).",
    ),
    log_to: list[str] | None = typer.Option(
        None,
        "--log-to",
        help="Where scalars go, repeatable: tensorboard (default, OUT/tb) and/or wandb "
        "(WANDB_MODE=offline works without a network).",
    ),
    workers: int = typer.Option(
        0, "--workers", help="Processes building batches (0: in the training process)."
    ),
    threads: int | None = typer.Option(
        None,
        "--threads",
        help="CPU threads for torch (default: torch's choice; 1 is faster on a busy machine).",
    ),
) -> None:
    """Train the DiT controller; Ctrl-C saves the current step so --resume can continue it."""
    # Heavy imports here, so `dexagent --help` stays fast.
    import torch

    from dexagent.controller.checkpoint import CheckpointError, load_config
    from dexagent.controller.config import ConfigError, get_config
    from dexagent.controller.config_overrides import apply_overrides, canonical
    from dexagent.controller.data.augment import DEFAULT_AUGMENT, AugmentError, parse_augment
    from dexagent.controller.training import TrainConfig, TrainingError, train

    if threads is not None:
        if threads < 1:
            fail(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    if init_from is not None and resume:
        fail("--init-from starts a new run; --resume continues one: pass one of them")
    if not data.exists():
        fail(f"--data {data}: no such demo store (record one with `dexagent collect`)")
    # On --resume the run's config holds its overrides; a --config or --set given is checked against it.
    policy_config = None
    try:
        recipe = canonical(overrides or ())
        if config is not None or recipe or not resume:
            base = get_config(config or "sim") if config is not None or not resume else load_config(out)
            policy_config = apply_overrides(base, recipe)
    except (ConfigError, CheckpointError) as error:
        fail(str(error))
    try:
        augments = tuple(parse_augment(text) for text in augment) if augment else DEFAULT_AUGMENT
    except AugmentError as error:
        fail(str(error))
    # On --resume an option left out continues with the run's value; only one given is reported
    # as ignored when the run keeps its own.
    saved = _saved_settings(out) if resume else {}
    resumed = {
        field: saved[field]
        for option, field in RESUMED_OPTIONS.items()
        if field in saved and not _given(ctx, option)
    }
    try:
        given = dict(
            steps=steps if steps is not None else DEFAULT_STEPS,
            batch_size=batch,
            lr=lr,
            warmup_steps=warmup,
            val_every=val_every,
            save_every=save_every,
            seed=seed,
            cache_features=cache_features,
            obs_stride=obs_stride,
            feature_views=feature_views,
            noise_draws=noise_draws,
            rounds=tuple(rounds) if rounds else (),
            recovery_weight=recovery_weight,
            precision=precision,
            feature_precision=feature_precision,
            log_to=tuple(log_to) if log_to else ("tensorboard",),
            augment=augments,
            workers=workers,
            init_from=str(init_from) if init_from is not None else "",
            policy_overrides=recipe,
        )
        settings = TrainConfig(**{**given, **resumed})  # type: ignore[arg-type]
        result = train(data, out, settings, policy_config, resume=resume, console=console)
    except (TrainingError, ConfigError) as error:
        fail(str(error))
    if result.interrupted:
        console.print(
            f"stopped at step {result.step}; continue with: dexagent train --data {data} --out {out} --resume"
        )
        raise typer.Exit(EXIT_INTERRUPTED)
