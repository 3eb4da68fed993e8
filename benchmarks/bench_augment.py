"""Image augmentation cost per training batch, each augmentation alone, against `retexture_table`.

Times what each augmentation adds to one training batch of both cameras (the random 96 px
frames of `bench_training.synthetic_store`, table everywhere but the target, arm joints within
+-1 rad, as `ChunkDataset.batch` hands them over): its `draw` and its call on the head and the
wrist images. `table_pattern` includes computing both
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
from bench_training import synthetic_store  # benchmarks/ is the script's folder, first on sys.path

from dexagent.controller.data.augment import AUGMENTS, ImageAugment, apply_augments, uses_plane
from dexagent.controller.data.dataset import ChunkDataset, load_demo_arrays
from dexagent.controller.data.table_plane import store_camera_coordinates
from dexagent.controller.preprocess import mask_to_tensor
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE


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
        cameras = ("head_rgb", "wrist_rgb")
        tables = {
            camera: mask_to_tensor(getattr(arrays, camera.replace("_rgb", "_table"))[frames], size)
            for camera in cameras
        }
        whole = median_seconds(lambda _: dataset.batch(positions), args.repeats)
        print(f"batch {args.batch}, both cameras at {size} px, {args.threads} threads")
        print(f"  ChunkDataset.batch without augmentation: {1000 * whole:7.1f} ms")

        def augment_both(augment: ImageAugment, repeat: int) -> None:
            generator = torch.Generator().manual_seed(repeat)
            drawn = [augment.draw(args.batch, generator)]
            for camera in cameras:
                plane = (
                    store_camera_coordinates(camera, arrays.state[frames], size)
                    if uses_plane([augment])
                    else None
                )
                apply_augments([augment], drawn, batch[camera], tables[camera], generator, plane)

        added = {
            name: median_seconds(functools.partial(augment_both, kind(probability=1.0)), args.repeats)
            for name, kind in AUGMENTS.items()
        }
        reference = added["retexture_table"]
        for name, seconds in added.items():
            print(f"  {name:16s} {1000 * seconds:7.1f} ms ({seconds / reference:4.1f}x retexture_table)")


if __name__ == "__main__":
    main()
