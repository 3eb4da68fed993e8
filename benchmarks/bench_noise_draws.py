"""Noise draws per encoded observation: validation loss per wall-clock second, K draws vs one.

Trains the same config from the same seed on one store for the same wall time with each
`--draws` K (`dexagent train --noise-draws K`: the encoders run once per sample, the DiT loss
K times) one after the other, and prints the validation loss of the current weights (fixed
batches, fixed noise, one draw: comparable across K) reached by each elapsed time, and the
steps and seconds per step.
The clock includes the validations (4 batches every `--val-every` steps, about 3% of a run).

    dexagent collect --skill grasp --episodes 60 --out /tmp/grasp60.zarr --workers 1
    python benchmarks/bench_noise_draws.py --data /tmp/grasp60.zarr --seconds 240 --draws 1 4 --threads 1
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dexagent.controller.config import get_config
from dexagent.controller.training import TrainConfig, train


def run(data: Path, out: Path, config_name: str, draws: int, seconds: float, val_every: int) -> dict:
    """One run stopped after `seconds` of training: its validation losses against wall time."""
    started = time.perf_counter()
    clock: dict[int, float] = {}

    def on_step(step: int, loss: float) -> bool:
        clock[step] = time.perf_counter() - started
        return clock[step] >= seconds

    # No EMA (a decay of 0 validates the current weights): an average over past steps would lag
    # further behind in the run that takes fewer, slower steps. A short warm-up for short runs.
    settings = TrainConfig(
        steps=100_000, batch_size=64, lr=3e-4, warmup_steps=20, val_every=val_every, val_batches=4,
        save_every=100_000, seed=0, noise_draws=draws, log_to=(), ema_max_decay=0.0,
    )  # fmt: skip
    result = train(data, out, settings, get_config(config_name), show_progress=False, on_step=on_step)
    result_val = [(clock[step], step, loss) for step, loss in result.val_losses if step in clock]
    return {"draws": draws, "steps": result.step, "val": result_val, "s_per_step": result.seconds_per_step}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="a demo store (dexagent collect)")
    parser.add_argument(
        "--config", default="sim-cnn", help="policy preset (default: the shipped grasp config's)"
    )
    parser.add_argument("--draws", type=int, nargs="+", default=[1, 4], help="noise draws per observation")
    parser.add_argument("--seconds", type=float, default=240.0, help="wall time of each run")
    parser.add_argument("--val-every", type=int, default=25, help="steps between validations")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for draws in args.draws:
            runs.append(
                run(args.data, Path(folder) / f"k{draws}", args.config, draws, args.seconds, args.val_every)
            )
    marks = np.linspace(args.seconds / 4, args.seconds, 4)
    print(f"{args.config} on {args.data}, {args.threads} thread(s), batch 64, {args.seconds:.0f} s per run")
    for result in runs:
        reached = []
        for mark in marks:
            before = [loss for seconds, _, loss in result["val"] if seconds <= mark + 1e-9]
            reached.append(f"{before[-1]:.4f}" if before else "-")
        print(
            f"K={result['draws']}: {result['steps']} steps, {result['s_per_step']:.3f} s/step; "
            f"validation loss by {', '.join(f'{m:.0f}' for m in marks)} s: {', '.join(reached)}"
        )


if __name__ == "__main__":
    main()
