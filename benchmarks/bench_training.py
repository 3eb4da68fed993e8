"""Training speed: the sim config's seconds/step, and cached frozen features vs encoding on the fly.

Runs the real `dexagent.controller.training.train` loop on a synthetic demo store (random
96 px frames in the real zarr layout), so data loading, EMA and logging are all counted.

    nice python benchmarks/bench_training.py                 # both parts
    nice python benchmarks/bench_training.py --part cache --dinov2 small --image-size 224

The cache part uses a random-initialised DINOv2 of the named size saved with
`save_pretrained` (no download) as a frozen head and wrist encoder; `--dinov2 base` /
`large` with `--image-size 518` is the paper's encoder (use a GPU for that).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

from dexagent.controller.config import EncoderConfig, get_config
from dexagent.controller.data.store import DemoStore, EpisodeFrames, EpisodeMetadata
from dexagent.controller.training import TrainConfig, train
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE

DINOV2 = {  # hidden, layers, heads: the published architectures
    "small": (384, 12, 6),
    "base": (768, 12, 12),
    "large": (1024, 24, 16),
}


def synthetic_store(path: Path, episodes: int, steps: int, image_size: int = DEFAULT_IMAGE_SIZE) -> Path:
    """A demo store of random frames with the real layout and dtypes."""
    rng = np.random.default_rng(0)
    with DemoStore.create_or_append(path, image_size=image_size, control_hz=20.0, joints=13) as store:
        for index in range(episodes):
            state = rng.uniform(-1, 1, (steps, 13)).astype(np.float32)
            mask = np.zeros((steps, image_size, image_size), dtype=bool)
            mask[:, 40:50, 30:44] = True
            frames = EpisodeFrames(
                action=state.copy(), state=state, head_mask=mask,
                head_rgb=rng.integers(0, 255, (steps, image_size, image_size, 3), dtype=np.uint8),
                wrist_rgb=rng.integers(0, 255, (steps, image_size, image_size, 3), dtype=np.uint8),
                head_table=~mask, wrist_table=~mask,
            )  # fmt: skip
            metadata = EpisodeMetadata(
                index, "seen", "grasp", "cube", "toy", "red", (), "grasp the cube", (30, 40, 44, 50), steps
            )
            store.append_episode(frames, metadata)
    return path


def bench_sim(workdir: Path, data: Path, steps: int, batch: int) -> None:
    settings = TrainConfig(steps=steps, batch_size=batch, val_every=10**9, save_every=10**9, warmup_steps=10)
    result = train(
        data, workdir / "sim", settings, get_config("sim"), console=Console(quiet=True), show_progress=False
    )
    print(
        f"sim config, batch {batch}, {torch.get_num_threads()} threads: "
        f"{result.seconds_per_step:.3f} s/step, {result.samples_per_second:.0f} samples/s, "
        f"{result.cpu_seconds_per_step:.3f} CPU s/step (mean of steps 2..{steps})"
    )


def bench_cache(workdir: Path, data: Path, size: str, image_size: int, batch: int, steps: int) -> None:
    from transformers import Dinov2Config, Dinov2Model

    hidden, layers, heads = DINOV2[size]
    folder = workdir / f"dinov2-{size}"
    Dinov2Model(
        Dinov2Config(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads, image_size=518)
    ).save_pretrained(folder)
    encoder = EncoderConfig(
        kind="dinov2", source=str(folder), frozen=True, width=hidden, patch_size=14, depth=layers, heads=heads
    )
    config = dataclasses.replace(
        get_config("sim"),
        name=f"sim+dinov2-{size}",
        image_size=image_size,
        head_encoder=encoder,
        wrist_encoder=encoder,
    )
    quiet = Console(quiet=True)
    base = dict(batch_size=batch, val_every=10**9, save_every=10**9, warmup_steps=10)

    fly = train(
        data, workdir / "fly", TrainConfig(steps=steps, **base), config, console=quiet, show_progress=False
    )  # type: ignore[arg-type]
    started = time.perf_counter()
    # One step builds the cache (timed on its own), then the cached run is measured.
    train(
        data,
        workdir / "build",
        TrainConfig(steps=1, cache_features=True, **base),
        config,
        console=quiet,
        show_progress=False,
    )  # type: ignore[arg-type]
    build_s = time.perf_counter() - started
    cached = train(
        data, workdir / "cached", TrainConfig(steps=max(10, steps), cache_features=True, **base), config,  # type: ignore[arg-type]
        console=quiet, show_progress=False,
    )  # fmt: skip
    store = DemoStore.open(data)
    print(
        f"frozen DINOv2-{size} head+wrist at {image_size} px, batch {batch}: on the fly "
        f"{fly.samples_per_second:.1f} samples/s ({fly.seconds_per_step:.2f} s/step, "
        f"{fly.cpu_seconds_per_step:.2f} CPU s/step); cached {cached.samples_per_second:.1f} samples/s "
        f"({cached.seconds_per_step:.3f} s/step, {cached.cpu_seconds_per_step:.3f} CPU s/step); speed-up "
        f"{cached.samples_per_second / fly.samples_per_second:.1f}x wall, "
        f"{fly.cpu_seconds_per_step / cached.cpu_seconds_per_step:.1f}x CPU; "
        f"cache build {build_s:.1f} s for {store.num_frames} frames"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=["sim", "cache", "all"], default="all")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sim-steps", type=int, default=20)
    parser.add_argument("--sim-batch", type=int, default=64)
    parser.add_argument("--dinov2", choices=sorted(DINOV2), default="small")
    parser.add_argument("--image-size", type=int, default=224, help="the frozen encoder's input size")
    parser.add_argument("--cache-batch", type=int, default=16)
    parser.add_argument("--cache-steps", type=int, default=3)
    parser.add_argument("--cache-episodes", type=int, default=2, help="Episodes of 16 frames to cache.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.part in ("sim", "all"):
            bench_sim(workdir, synthetic_store(workdir / "sim.zarr", 16, 144), args.sim_steps, args.sim_batch)
        if args.part in ("cache", "all"):
            data = synthetic_store(workdir / "cache.zarr", args.cache_episodes, 16)
            bench_cache(workdir, data, args.dinov2, args.image_size, args.cache_batch, args.cache_steps)


if __name__ == "__main__":
    main()
