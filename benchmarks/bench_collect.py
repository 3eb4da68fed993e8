"""Scripted collection speed: episodes/minute, demos/minute (with images) and bytes per demo on disk.

Runs `dexagent collect`'s own code path (record_demo + DemoStore) in this process and prints:
    python benchmarks/bench_collect.py [--episodes 10] [--image-size 96] [--wrist-size 96]
        [--skill grasp] [--workers 1]

`--wrist-size` renders the wrist camera at its own size (`collect --wrist-size`; default: the
head's). With `--workers 1` it also prints where the wall time went: each camera's colour and
segmentation passes, physics, the scripted expert, stacking frames and store writes.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("MUJOCO_GL", "egl")

from dexagent.controller.data import DemoStore  # noqa: E402
from dexagent.controller.data import collect as collect_module  # noqa: E402
from dexagent.controller.data.collect import CollectJob, attempt_indices, iter_demos  # noqa: E402
from dexagent.controller.scripted import ScriptedController  # noqa: E402
from dexagent.hardware.sim.render import SceneRenderer  # noqa: E402
from dexagent.hardware.sim.robot import SimRobot  # noqa: E402
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE  # noqa: E402

# [calls, seconds] by stage name, filled by the timing wrappers of `timed_stages`.
Stages = dict[str, list[float]]


@contextmanager
def timed_stages() -> Iterator[Stages]:
    """Time the stages of collection in this process (wrapping them while the block runs)."""
    stages: Stages = defaultdict(lambda: [0, 0.0])

    def wrap(owner: Any, name: str, stage: Callable[[tuple[Any, ...]], str]) -> Callable[..., Any]:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                entry = stages[stage(args)]
                entry[0] += 1
                entry[1] += time.perf_counter() - started

        setattr(owner, name, timed)
        return original

    # args of a method: (self, data, camera) for the renderer's passes.
    wrapped = [
        (SceneRenderer, "rgb", wrap(SceneRenderer, "rgb", lambda a: f"render {a[2]} colour")),
        (SceneRenderer, "geoms", wrap(SceneRenderer, "geoms", lambda a: f"render {a[2]} segmentation")),
        (SimRobot, "act", wrap(SimRobot, "act", lambda a: "physics (SimRobot.act)")),
        (SimRobot, "__init__", wrap(SimRobot, "__init__", lambda a: "build the scene")),
        (ScriptedController, "reset", wrap(ScriptedController, "reset", lambda a: "scripted expert")),
        (ScriptedController, "act", wrap(ScriptedController, "act", lambda a: "scripted expert")),
        (collect_module, "_frames", wrap(collect_module, "_frames", lambda a: "stack frames")),
    ]
    try:
        yield stages
    finally:
        for owner, name, original in wrapped:
            setattr(owner, name, original)


def print_breakdown(stages: Stages, write_seconds: float, demos: int, elapsed: float) -> None:
    """Each stage's share of the wall time, with its time per call."""
    rows = {**stages, "store writes": [demos, write_seconds]}
    named = sum(seconds for _, seconds in rows.values())
    print(f"where the wall time went ({elapsed:.1f} s):")
    for name, (calls, seconds) in sorted(rows.items(), key=lambda row: -row[1][1]):
        print(
            f"  {name:34s} {seconds / elapsed:5.1%}  {seconds * 1000 / max(calls, 1):7.2f} ms x {calls:.0f}"
        )
    print(f"  {'other':34s} {max(0.0, elapsed - named) / elapsed:5.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=10, help="attempts to run")
    parser.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE)
    parser.add_argument(
        "--wrist-size", type=int, default=None, help="the wrist's own size (default: --image-size)"
    )
    parser.add_argument("--skill", default="grasp")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    wrist = args.image_size if args.wrist_size is None else args.wrist_size

    job = CollectJob(skill=args.skill, image_size=args.image_size, wrist_size=wrist, seed=args.seed)
    with tempfile.TemporaryDirectory() as folder, timed_stages() as stages:
        path = Path(folder) / "bench.zarr"
        demos = attempts = frames = 0
        record_seconds = write_seconds = 0.0
        started, cpu_started = time.perf_counter(), time.process_time()
        with DemoStore.create_or_append(
            path, image_size=args.image_size, wrist_size=wrist, control_hz=20.0, joints=13
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
    print(
        f"skill {args.skill}, images head {args.image_size} px + head mask, wrist {wrist} px, "
        f"{attempts} attempts"
    )
    print(f"scripted episodes/minute: {attempts / elapsed * 60:.1f}")
    print(f"demos/minute (kept, written): {demos / elapsed * 60:.1f}  ({demos}/{attempts} succeeded)")
    if args.workers == 1:
        print(f"demos per CPU-minute (one core, unshared): {demos / cpu * 60:.1f}")
    print(f"mean ticks per demo: {frames / max(demos, 1):.0f}; per attempt {record_seconds / attempts:.2f} s")
    print(f"store write per demo: {write_seconds / max(demos, 1) * 1000:.0f} ms")
    per_demo, per_frame = size / max(demos, 1) / 1e6, size / max(frames, 1) / 1e3
    print(f"bytes per demo on disk: {per_demo:.2f} MB ({per_frame:.1f} kB/frame)")
    if args.workers == 1:
        print_breakdown(stages, write_seconds, demos, elapsed)


if __name__ == "__main__":
    main()
