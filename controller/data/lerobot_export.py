"""Export a demonstration store as a LeRobotDataset v3.0 (parquet with pyarrow, MP4 with PyAV).

Written the way LeRobot's own `LeRobotDataset.save_episode` writes: frames as rows
of `data/` parquet files, each camera's episodes back to back in MP4 files, one row
per episode in `meta/episodes/` saying where its frames and video spans are, the
instructions as tasks, and LeRobot's statistics. The export goes to a temporary
folder beside OUT and is renamed into place when complete, so an interrupted export
leaves no half dataset behind.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dexagent.controller.data import lerobot_layout as layout
from dexagent.controller.data.lerobot_tables import require_pyarrow, write_tasks
from dexagent.controller.data.store import DemoStore, EpisodeMetadata, StoreError
from dexagent.controller.data.video_codec import DEFAULT_CRF, VideoFileWriter, available_codec, video_info
from dexagent.hardware.sim.robot import sim_robot_spec

MB = 1024 * 1024
STATS_FRAMES = 100  # frames per episode that image statistics sample (LeRobot samples ~100 too)
CAMERAS = {"head_rgb": layout.HEAD_CAMERA, "wrist_rgb": layout.WRIST_CAMERA}
MASKS = {"head_mask": layout.TARGET_MASK, "head_table": layout.HEAD_TABLE, "wrist_table": layout.WRIST_TABLE}


@dataclass(frozen=True)
class ExportSummary:
    episodes: int
    frames: int
    tasks: int
    codec: str
    bytes_written: int


def png_bytes(mask: np.ndarray) -> bytes:
    """A bool[H, W] mask as a lossless 8-bit grayscale PNG (0 or 255)."""
    buffer = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


class _RollingWriters:
    """Parquet data files and per-camera MP4 files, each starting a new file past its size limit."""

    def __init__(self, root: Path, fps: int, codec: str, crf: int) -> None:
        self.root, self.fps, self.codec, self.crf = root, fps, codec, crf
        self.data_position, self.data_frames = 0, 0
        self._data_writer: Any = None
        self.video_position = dict.fromkeys(CAMERAS.values(), 0)
        self._videos: dict[str, VideoFileWriter] = {}

    def _data_path(self) -> Path:
        return self.root / layout.DATA_PATH.format(**layout.chunk_file(self.data_position))

    def write_data(self, table: Any) -> dict[str, int]:
        """Append one episode's rows; returns its data/chunk_index and data/file_index."""
        pq = require_pyarrow().parquet
        if self._data_writer is not None and self._data_path().stat().st_size >= layout.DATA_FILE_MB * MB:
            self._data_writer.close()
            self._data_writer, self.data_position = None, self.data_position + 1
        if self._data_writer is None:
            self._data_path().parent.mkdir(parents=True, exist_ok=True)
            self._data_writer = pq.ParquetWriter(self._data_path(), table.schema, compression="snappy")
        self._data_writer.write_table(table)
        return {f"data/{k}": v for k, v in layout.chunk_file(self.data_position).items()}

    def write_video(self, key: str, frames: np.ndarray) -> dict[str, Any]:
        """Append one episode of one camera; returns its videos/<key>/* episode columns."""
        writer = self._videos.get(key)
        if writer is not None and writer.size_bytes() >= layout.VIDEO_FILE_MB * MB:
            writer.close()
            writer, self.video_position[key] = None, self.video_position[key] + 1
        if writer is None:
            where = layout.chunk_file(self.video_position[key])
            path = self.root / layout.VIDEO_PATH.format(video_key=key, **where)
            writer = self._videos[key] = VideoFileWriter(path, self.fps, self.codec, self.crf)
        start, end = writer.append(frames)
        where = layout.chunk_file(self.video_position[key])
        return {
            f"videos/{key}/chunk_index": where["chunk_index"],
            f"videos/{key}/file_index": where["file_index"],
            f"videos/{key}/from_timestamp": start,
            f"videos/{key}/to_timestamp": end,
        }

    def close(self) -> None:
        if self._data_writer is not None:
            self._data_writer.close()
        for writer in self._videos.values():
            writer.close()


def _frame_table(
    frames: Any, episode: int, first_index: int, task_index: int, fps: int, masks: dict[str, str]
) -> Any:
    pa = require_pyarrow()
    steps = frames.steps
    vector = pa.list_(pa.float32(), int(frames.action.shape[1]))
    image = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    columns: dict[str, Any] = {
        layout.ACTION: pa.FixedSizeListArray.from_arrays(pa.array(frames.action.reshape(-1)), type=vector),
        layout.STATE: pa.FixedSizeListArray.from_arrays(pa.array(frames.state.reshape(-1)), type=vector),
    }
    for array_name, key in masks.items():
        cells = [{"bytes": png_bytes(mask), "path": None} for mask in getattr(frames, array_name)]
        columns[key] = pa.array(cells, type=image)
    frame_index = np.arange(steps, dtype=np.int64)
    columns["timestamp"] = pa.array((frame_index / fps).astype(np.float32))
    columns["frame_index"] = pa.array(frame_index)
    columns["episode_index"] = pa.array(np.full(steps, episode, np.int64))
    columns["index"] = pa.array(first_index + frame_index)
    columns["task_index"] = pa.array(np.full(steps, task_index, np.int64))
    return pa.table(columns)


def _episode_stats(
    frames: Any, episode: int, first_index: int, task_index: int, fps: int, masks: dict[str, str]
) -> dict[str, dict[str, np.ndarray]]:
    steps = frames.steps
    sampled = np.linspace(0, steps - 1, min(steps, STATS_FRAMES)).round().astype(int)
    stats = {
        layout.ACTION: layout.feature_stats(frames.action, image=False),
        layout.STATE: layout.feature_stats(frames.state, image=False),
    }
    for array_name, key in CAMERAS.items():
        stats[key] = layout.feature_stats(getattr(frames, array_name)[sampled], image=True)
    for array_name, key in masks.items():
        mask = getattr(frames, array_name)[sampled][..., None].astype(np.uint8) * 255
        stats[key] = layout.feature_stats(mask, image=True)
    frame_index = np.arange(steps, dtype=np.int64)[:, None]
    index_values = {
        "timestamp": (frame_index / fps).astype(np.float32),
        "frame_index": frame_index,
        "episode_index": np.full((steps, 1), episode, np.int64),
        "index": first_index + frame_index,
        "task_index": np.full((steps, 1), task_index, np.int64),
    }
    for key, values in index_values.items():
        stats[key] = layout.feature_stats(values, image=False)
    return stats


def _metadata_columns(metadata: EpisodeMetadata) -> dict[str, Any]:
    return {
        f"{layout.METADATA_PREFIX}seed": metadata.seed,
        f"{layout.METADATA_PREFIX}split": metadata.split,
        f"{layout.METADATA_PREFIX}skill": metadata.skill,
        f"{layout.METADATA_PREFIX}target_name": metadata.target_name,
        f"{layout.METADATA_PREFIX}target_category": metadata.target_category,
        f"{layout.METADATA_PREFIX}target_colour": metadata.target_colour,
        f"{layout.METADATA_PREFIX}target_tags": list(metadata.target_tags),
        f"{layout.METADATA_PREFIX}target_box": list(metadata.target_box),
    }


def export_lerobot(
    store: DemoStore,
    out: Path,
    *,
    codec: str | None = None,
    crf: int = DEFAULT_CRF,
    table_masks: bool = True,
    robot_type: str = "dexagent_sim",
    on_episode: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write every committed episode of `store` to the LeRobot v3.0 dataset folder `out` (must not exist)."""
    pa = require_pyarrow()
    if out.exists():
        raise StoreError(f"{out} already exists; give a new folder for the LeRobot dataset")
    if store.num_episodes == 0:
        raise StoreError(f"{store.path} holds no episodes to export")
    fps = round(store.control_hz)
    if abs(fps - store.control_hz) > 1e-6:
        raise StoreError(
            f"LeRobot needs an integer frame rate; {store.path} records at {store.control_hz} Hz"
        )
    codec = available_codec(codec) if codec else available_codec()
    masks = MASKS if table_masks else {"head_mask": layout.TARGET_MASK}
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    writers = _RollingWriters(staging, fps, codec, crf)
    tasks: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    per_episode_stats: list[dict[str, dict[str, np.ndarray]]] = []
    try:
        first_index = 0
        for episode in range(store.num_episodes):
            frames, metadata = store.episode(episode), store.episode_metadata(episode)
            task_index = tasks.setdefault(metadata.instruction, len(tasks))
            row: dict[str, Any] = {
                "episode_index": episode,
                "tasks": [metadata.instruction],
                "length": frames.steps,
            }
            row.update(writers.write_data(_frame_table(frames, episode, first_index, task_index, fps, masks)))
            row.update(dataset_from_index=first_index, dataset_to_index=first_index + frames.steps)
            for array_name, key in CAMERAS.items():
                row.update(writers.write_video(key, getattr(frames, array_name)))
            row.update({"meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0})
            stats = _episode_stats(frames, episode, first_index, task_index, fps, masks)
            per_episode_stats.append(stats)
            for key, block in stats.items():
                row.update({f"stats/{key}/{name}": value.tolist() for name, value in block.items()})
            row.update(_metadata_columns(metadata))
            rows.append(row)
            first_index += frames.steps
            if on_episode is not None:
                on_episode(episode)
        writers.close()
        _write_meta(staging, store, fps, masks, tasks, rows, per_episode_stats, robot_type, pa)
        staging.rename(out)
    except BaseException:
        writers.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return ExportSummary(store.num_episodes, store.num_frames, len(tasks), codec, size)


def _write_meta(
    root: Path,
    store: DemoStore,
    fps: int,
    masks: dict[str, str],
    tasks: dict[str, int],
    rows: list[dict[str, Any]],
    per_episode_stats: list[dict[str, dict[str, np.ndarray]]],
    robot_type: str,
    pa: Any,
) -> None:
    episodes_path = root / layout.EPISODES_PATH.format(chunk_index=0, file_index=0)
    episodes_path.parent.mkdir(parents=True, exist_ok=True)
    pa.parquet.write_table(pa.Table.from_pylist(rows), episodes_path)
    write_tasks(root / layout.TASKS_PATH, tasks)
    keys = per_episode_stats[0].keys()
    stats = {key: layout.aggregate_stats([s[key] for s in per_episode_stats]) for key in keys}
    (root / layout.STATS_PATH).write_text(json.dumps(layout.stats_to_json(stats), indent=4))
    feature_block = layout.features(
        store.image_size, sim_robot_spec().joint_names, len(masks) > 1, wrist_size=store.wrist_size
    )
    for key in CAMERAS.values():
        first_video = root / layout.VIDEO_PATH.format(video_key=key, chunk_index=0, file_index=0)
        feature_block[key]["info"] = video_info(first_video)
    description = layout.info(
        fps=fps,
        feature_block=feature_block,
        total_episodes=store.num_episodes,
        total_frames=store.num_frames,
        total_tasks=len(tasks),
        robot_type=robot_type,
    )
    (root / layout.INFO_PATH).write_text(json.dumps(description, indent=4))
