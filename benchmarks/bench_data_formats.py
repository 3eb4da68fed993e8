"""Sizes and times of exporting a demonstration store to LeRobot v3 and to the official DexGraspVLA
layout, and of importing each back, with the round trip's image error.

    python benchmarks/bench_data_formats.py STORE              # e.g. a store from `dexagent collect`
    python benchmarks/bench_data_formats.py STORE --codec libx264

Prints one line per step: seconds, bytes on disk, and for the LeRobot round trip the mean and
99th-percentile absolute error of the camera images in grey levels (video is lossy; state, action
and masks must come back exactly, which the script checks).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from dexagent.controller.data import DemoStore
from dexagent.controller.data.dexgraspvla_format import export_dexgraspvla, import_dexgraspvla
from dexagent.controller.data.lerobot_export import export_lerobot
from dexagent.controller.data.lerobot_import import import_lerobot

EXACT = ("action", "state", "head_mask", "head_table", "wrist_table")


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def compare(original: DemoStore, loaded: DemoStore) -> str:
    errors = {"head_rgb": [], "wrist_rgb": []}  # type: dict[str, list[np.ndarray]]
    for index in range(original.num_episodes):
        a, b = original.episode(index), loaded.episode(index)
        for key in EXACT:
            if not np.array_equal(getattr(a, key), getattr(b, key)):
                raise SystemExit(f"episode {index}: {key} differs after the round trip")
        for key, values in errors.items():
            values.append(np.abs(getattr(a, key).astype(np.int16) - getattr(b, key).astype(np.int16)).ravel())
    parts = []
    for key, values in errors.items():
        flat = np.concatenate(values)
        parts.append(f"{key} mean {flat.mean():.2f} p99 {np.percentile(flat, 99):.0f} max {flat.max()}")
    return "exact: " + ", ".join(EXACT) + "; " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--codec", default=None, help="default: libsvtav1 (LeRobot's), else libx264")
    args = parser.parse_args()
    store = DemoStore.open(args.store)
    print(
        f"store {args.store}: {store.num_episodes} episodes, {store.num_frames} frames, "
        f"{store.image_size} px, {folder_bytes(args.store) / 1e6:.2f} MB"
    )
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        summary = export_lerobot(store, root / "lerobot", codec=args.codec)
        seconds = time.perf_counter() - started
        videos = folder_bytes(root / "lerobot/videos")
        data = folder_bytes(root / "lerobot/data")
        print(
            f"export lerobot ({summary.codec}): {seconds:.1f} s, {summary.bytes_written / 1e6:.2f} MB "
            f"(videos {videos / 1e6:.2f} MB, data parquet {data / 1e6:.2f} MB, "
            f"meta {(summary.bytes_written - videos - data) / 1e6:.2f} MB)"
        )
        started = time.perf_counter()
        import_lerobot(root / "lerobot", root / "from_lerobot.zarr")
        print(f"import lerobot: {time.perf_counter() - started:.1f} s")
        print(f"  round trip: {compare(store, DemoStore.open(root / 'from_lerobot.zarr'))}")

        started = time.perf_counter()
        size = export_dexgraspvla(store, root / "official.zarr")
        print(f"export dexgraspvla: {time.perf_counter() - started:.1f} s, {size / 1e6:.2f} MB")
        started = time.perf_counter()
        import_dexgraspvla(root / "official.zarr", root / "from_official.zarr")
        print(f"import dexgraspvla: {time.perf_counter() - started:.1f} s")
        print(f"  round trip: {compare(store, DemoStore.open(root / 'from_official.zarr'))}")


if __name__ == "__main__":
    main()
