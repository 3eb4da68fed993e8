"""Scripted collection speed: episodes/minute, demos/minute (with images) and bytes per demo on disk.

Runs `dexagent collect`'s own code path (record_demo + DemoStore) in this process and prints:
    python benchmarks/bench_collect.py [--episodes 10] [--image-size 96] [--skill grasp] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

from dexagent.controller.data import DemoStore  # noqa: E402
from dexagent.controller.data.collect import CollectJob, attempt_indices, iter_demos  # noqa: E402
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=10, help="attempts to run")
    parser.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE)
    parser.add_argument("--skill", default="grasp")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    job = CollectJob(skill=args.skill, image_size=args.image_size, seed=args.seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.zarr"
        demos = attempts = frames = 0
        record_seconds = write_seconds = 0.0
        started, cpu_started = time.perf_counter(), time.process_time()
        with DemoStore.create_or_append(
            path, image_size=args.image_size, control_hz=20.0, joints=13
        ) as store:
            for demo in iter_demos(job, attempt_indices(job, set()), args.workers):
                attempts += 1
                record_seconds += demo.wall_seconds
                if demo.success and demo.frames is not None and demo.metadata is not None:
                    tick = time.perf_counter()
                    store.append_episode(demo.frames, demo.metadata)
                    write_seconds += time.perf_counter() - tick
                    demos += 1
                    frames += demo.frames.steps
                if attempts >= args.episodes:
                    break
        elapsed = time.perf_counter() - started
        # CPU time of this process: robust on a shared machine (meaningful with --workers 1 only).
        cpu = time.process_time() - cpu_started
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cpus, workers {args.workers}")
    print(f"skill {args.skill}, images {args.image_size} px (head + wrist + head mask), {attempts} attempts")
    print(f"scripted episodes/minute: {attempts / elapsed * 60:.1f}")
    print(f"demos/minute (kept, written): {demos / elapsed * 60:.1f}  ({demos}/{attempts} succeeded)")
    if args.workers == 1:
        print(f"demos per CPU-minute (one core, unshared): {demos / cpu * 60:.1f}")
    print(f"mean ticks per demo: {frames / max(demos, 1):.0f}; per attempt {record_seconds / attempts:.2f} s")
    print(f"store write per demo: {write_seconds / max(demos, 1) * 1000:.0f} ms")
    per_demo, per_frame = size / max(demos, 1) / 1e6, size / max(frames, 1) / 1e3
    print(f"bytes per demo on disk: {per_demo:.2f} MB ({per_frame:.1f} kB/frame)")


if __name__ == "__main__":
    main()
