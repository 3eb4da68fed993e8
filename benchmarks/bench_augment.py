"""Image augmentation cost per training batch, each augmentation alone, against `retexture_table`.

Times what each augmentation adds to one training batch of both cameras (random 96 px frames
with a table mask and random arm joints, as `ChunkDataset.batch` hands them over): its `draw`
and its call on the head and the wrist images. `table_pattern` includes computing both
cameras' table coordinates (forward kinematics of each frame's arm joints, a ray per pixel on
a 2x grid), as the dataset does for it. For scale, the whole `ChunkDataset.batch` without
augmentation (images in memory) is timed too.

    nice python benchmarks/bench_augment.py --batch 64 --repeats 20 --threads 2
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from dexagent.controller.data.augment import AUGMENTS, ImageAugment
from dexagent.controller.data.dataset import ChunkDataset, load_demo_arrays
from dexagent.controller.data.store import DemoStore, EpisodeFrames, EpisodeMetadata
from dexagent.controller.data.table_plane import CAMERAS, PLANE_SUPERSAMPLE, table_coordinates
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE
from dexagent.hardware.types import ARM_DOF


def synthetic_store(path: Path, episodes: int, steps: int, size: int = DEFAULT_IMAGE_SIZE) -> Path:
    """Random frames whose lower two thirds are table; arm joints within +-0.5 rad of zero."""
    rng = np.random.default_rng(0)
    with DemoStore.create_or_append(path, image_size=size, control_hz=20.0, joints=13) as store:
        for index in range(episodes):
            state = np.zeros((steps, 13), dtype=np.float32)
            state[:, :ARM_DOF] = rng.uniform(-0.5, 0.5, (steps, ARM_DOF))
            mask = np.zeros((steps, size, size), dtype=bool)
            mask[:, 40:50, 30:44] = True
            table = np.zeros_like(mask)
            table[:, size // 3 :] = True
            frames = EpisodeFrames(
                action=state.copy(), state=state, head_mask=mask,
                head_rgb=rng.integers(0, 255, (steps, size, size, 3), dtype=np.uint8),
                wrist_rgb=rng.integers(0, 255, (steps, size, size, 3), dtype=np.uint8),
                head_table=table & ~mask, wrist_table=table,
            )  # fmt: skip
            metadata = EpisodeMetadata(
                index, "seen", "grasp", "cube", "toy", "red", (), "grasp the cube", (30, 40, 44, 50), steps
            )
            store.append_episode(frames, metadata)
    return path


def median_seconds(run: Callable[[int], object], repeats: int) -> float:
    """Median wall seconds of `run(repeat)` over `repeats` calls, after one warm-up call."""
    times = []
    for repeat in range(repeats + 1):
        started = time.perf_counter()
        run(repeat)
        times.append(time.perf_counter() - started)
    return float(np.median(times[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = DEFAULT_IMAGE_SIZE
    with tempfile.TemporaryDirectory() as tmp:
        arrays = load_demo_arrays(synthetic_store(Path(tmp) / "demos.zarr", episodes=8, steps=64))
        dataset = ChunkDataset(arrays, np.arange(arrays.num_episodes), horizon=16, image_size=size)
        positions = np.random.default_rng(1).integers(0, len(dataset), args.batch)
        batch = dataset.batch(positions)
        frames = dataset.frames[positions]
        arm = arrays.state[frames][:, :ARM_DOF]
        tables = {
            camera: torch.from_numpy(getattr(arrays, f"{camera}_table")[frames])[:, None].float()
            for camera in CAMERAS
        }
        whole = median_seconds(lambda _: dataset.batch(positions), args.repeats)
        print(f"batch {args.batch}, both cameras at {size} px, {args.threads} threads")
        print(f"  ChunkDataset.batch without augmentation: {1000 * whole:7.1f} ms")

        def augment_both(augment: ImageAugment, repeat: int) -> None:
            generator = torch.Generator().manual_seed(repeat)
            drawn = augment.draw(args.batch, generator)
            for camera in CAMERAS:
                rgb, table = batch[f"{camera}_rgb"], tables[camera]
                if getattr(augment, "uses_plane", False):
                    plane = table_coordinates(camera, arm, size * PLANE_SUPERSAMPLE)
                    augment(rgb, table, drawn, generator, plane=plane)
                else:
                    augment(rgb, table, drawn, generator)

        added = {
            name: median_seconds(functools.partial(augment_both, kind(probability=1.0)), args.repeats)
            for name, kind in AUGMENTS.items()
        }
        reference = added["retexture_table"]
        for name, seconds in added.items():
            print(f"  {name:16s} {1000 * seconds:7.1f} ms ({seconds / reference:4.1f}x retexture_table)")


if __name__ == "__main__":
    main()
