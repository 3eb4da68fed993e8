"""The LeRobotDataset v3.0 layout as dexagent writes and reads it: paths, feature names, info, stats.

```
OUT/meta/info.json                                  codebase_version v3.0, fps, features, path templates
OUT/meta/stats.json                                 min/max/mean/std/count/q01..q99 per feature
OUT/meta/tasks.parquet                              index: instruction text, column task_index
OUT/meta/episodes/chunk-000/file-000.parquet        one row per episode: length, tasks, where its
                                                    frames and video spans are, stats/*, dexagent/*
OUT/data/chunk-000/file-000.parquet                 one row per frame: state, action, masks (PNG), indices
OUT/videos/observation.images.head/chunk-000/file-000.mp4    head camera, episodes back to back
OUT/videos/observation.images.wrist/chunk-000/file-000.mp4   wrist camera
```

The names and templates are LeRobot's (lerobot/datasets/utils.py); the masks are
lossless PNG image features so a round trip gives them back bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000  # files per chunk folder
DATA_FILE_MB = 100
VIDEO_FILE_MB = 200
CHUNK_FILE = "chunk-{chunk_index:03d}/file-{file_index:03d}"
DATA_PATH = "data/" + CHUNK_FILE + ".parquet"
VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE + ".mp4"
EPISODES_PATH = "meta/episodes/" + CHUNK_FILE + ".parquet"
INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)

# Our store's arrays -> LeRobot feature names (LeRobot's conventions: observation.state, action,
# observation.images.<camera>). Import maps features back by these names unless told otherwise.
STATE = "observation.state"
ACTION = "action"
HEAD_CAMERA = "observation.images.head"
WRIST_CAMERA = "observation.images.wrist"
TARGET_MASK = "observation.masks.head_target"
HEAD_TABLE = "observation.masks.head_table"
WRIST_TABLE = "observation.masks.wrist_table"
FEATURE_OF_ARRAY = {
    "state": STATE,
    "action": ACTION,
    "head_rgb": HEAD_CAMERA,
    "wrist_rgb": WRIST_CAMERA,
    "head_mask": TARGET_MASK,
    "head_table": HEAD_TABLE,
    "wrist_table": WRIST_TABLE,
}
REQUIRED_ARRAYS = ("state", "action", "head_rgb", "wrist_rgb", "head_mask")  # table masks are sim-only
METADATA_PREFIX = "dexagent/"  # our per-episode metadata columns in meta/episodes

INDEX_FEATURES: dict[str, dict[str, Any]] = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}


def chunk_file(position: int) -> dict[str, int]:
    """The chunk and file index of the `position`-th file of a kind (LeRobot's numbering)."""
    return {"chunk_index": position // CHUNKS_SIZE, "file_index": position % CHUNKS_SIZE}


def features(
    image_size: int, joint_names: tuple[str, ...], with_table_masks: bool, wrist_size: int | None = None
) -> dict[str, Any]:
    """The `features` block of info.json for a store of `image_size` px head images and
    `wrist_size` px wrist images (None: `image_size`)."""
    image_names = ["height", "width", "channels"]
    vector = {"dtype": "float32", "shape": [len(joint_names)], "names": list(joint_names)}
    s, w = image_size, image_size if wrist_size is None else wrist_size
    described: dict[str, Any] = {
        STATE: dict(vector),
        ACTION: dict(vector),
        HEAD_CAMERA: {"dtype": "video", "shape": [s, s, 3], "names": image_names},
        WRIST_CAMERA: {"dtype": "video", "shape": [w, w, 3], "names": image_names},
        TARGET_MASK: {"dtype": "image", "shape": [s, s, 1], "names": image_names},
    }
    if with_table_masks:
        for key, side in ((HEAD_TABLE, s), (WRIST_TABLE, w)):
            described[key] = {"dtype": "image", "shape": [side, side, 1], "names": image_names}
    return {**described, **INDEX_FEATURES}


def info(
    *,
    fps: int,
    feature_block: dict[str, Any],
    total_episodes: int,
    total_frames: int,
    total_tasks: int,
    robot_type: str,
) -> dict[str, Any]:
    """meta/info.json, with the keys LeRobot's `create_empty_dataset_info` writes."""
    return {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": total_episodes,
        "total_frames": total_frames,
        "total_tasks": total_tasks,
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": DATA_FILE_MB,
        "video_files_size_in_mb": VIDEO_FILE_MB,
        "fps": fps,
        "splits": {"train": f"0:{total_episodes}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH,
        "features": feature_block,
    }


def feature_stats(values: np.ndarray, *, image: bool) -> dict[str, np.ndarray]:
    """LeRobot's statistics of one feature over frames.

    Vectors [T, D] reduce over frames to [D]; images [T, H, W, C] (uint8) reduce to per-channel
    [C, 1, 1] in [0, 1], as LeRobot's `compute_episode_stats` does.
    """
    if image:
        channels = values.shape[-1]
        flat = values.reshape(-1, channels).astype(np.float64) / 255.0
        shape: tuple[int, ...] = (channels, 1, 1)
    else:
        flat = values.reshape(values.shape[0], -1).astype(np.float64)
        shape = (flat.shape[1],)
    stats = {
        "min": flat.min(axis=0),
        "max": flat.max(axis=0),
        "mean": flat.mean(axis=0),
        "std": flat.std(axis=0),
    }
    for q, value in zip(QUANTILES, np.quantile(flat, QUANTILES, axis=0), strict=True):
        stats[f"q{round(q * 100):02d}"] = value
    out = {name: np.asarray(value).reshape(shape) for name, value in stats.items()}
    out["count"] = np.array([values.shape[0]])
    return out


def aggregate_stats(per_episode: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Dataset statistics from per-episode ones (LeRobot's `aggregate_stats`: count-weighted
    mean and pooled variance; quantiles as count-weighted means, an approximation LeRobot shares)."""
    counts = np.array([float(s["count"][0]) for s in per_episode])
    weights = counts / counts.sum()
    mean = sum(w * s["mean"] for w, s in zip(weights, per_episode, strict=True))
    variance = sum(
        w * (s["std"] ** 2 + (s["mean"] - mean) ** 2) for w, s in zip(weights, per_episode, strict=True)
    )
    out: dict[str, np.ndarray] = {
        "min": np.min([s["min"] for s in per_episode], axis=0),
        "max": np.max([s["max"] for s in per_episode], axis=0),
        "mean": np.asarray(mean),
        "std": np.sqrt(np.asarray(variance)),
        "count": np.array([int(counts.sum())]),
    }
    for q in QUANTILES:
        key = f"q{round(q * 100):02d}"
        out[key] = np.asarray(sum(w * s[key] for w, s in zip(weights, per_episode, strict=True)))
    return out


def stats_to_json(stats: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, Any]]:
    return {key: {name: value.tolist() for name, value in block.items()} for key, block in stats.items()}
