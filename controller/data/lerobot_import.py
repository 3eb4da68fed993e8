"""Import a LeRobotDataset v3.0 folder into a demonstration store, mapping features by name.

The store needs state and action of one size (one value per joint), a head and a wrist camera and the target
mask in the head image (a video or an image feature); the table masks are optional
(sim-only, for re-texturing) and import as empty when absent. Feature names default
to the ones `export_lerobot` writes and can be mapped, e.g.
`{"head_rgb": "observation.images.top"}`. Images must be square and of one size per camera (the
head camera's images and masks one size, the wrist's another), or `image_size` resizes them all
(centre crop to a square, then resize).
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dexagent.controller.data import lerobot_layout as layout
from dexagent.controller.data.lerobot_tables import read_table, read_tasks
from dexagent.controller.data.store import DemoStore, EpisodeFrames, EpisodeMetadata, StoreError
from dexagent.controller.data.video_codec import VideoFileReader

IMAGE_ARRAYS = ("head_rgb", "wrist_rgb", "head_mask", "head_table", "wrist_table")
MASK_ARRAYS = ("head_mask", "head_table", "wrist_table")
WRIST_ARRAYS = ("wrist_rgb", "wrist_table")  # the wrist camera's size; the other images the head's


@dataclass(frozen=True)
class ImportSummary:
    episodes: int
    frames: int
    image_size: int  # the head camera's
    wrist_size: int  # the wrist camera's
    missing_optional: tuple[str, ...]  # store arrays the dataset lacked, written empty


MAX_INFO_BYTES = 10_000_000  # a large dataset's info.json is a few kB


def load_info(root: Path) -> dict[str, Any]:
    """meta/info.json of a v3 dataset, or a StoreError saying what is wrong with it (file and field)."""
    path = root / layout.INFO_PATH
    if not path.is_file():
        raise StoreError(f"{root} is not a LeRobot dataset: {layout.INFO_PATH} is missing")
    if path.stat().st_size > MAX_INFO_BYTES:
        raise StoreError(f"{path}: {path.stat().st_size} bytes; an info.json is at most {MAX_INFO_BYTES}")
    try:
        info = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise StoreError(
            f"{path}: not UTF-8 JSON (byte at offset {error.start}); is it a binary file?"
        ) from None
    except json.JSONDecodeError as error:
        raise StoreError(f"{path}: not valid JSON (line {error.lineno}: {error.msg})") from None
    except RecursionError:
        raise StoreError(f"{path}: nested too deeply to be a LeRobot info.json") from None
    if not isinstance(info, dict):
        raise StoreError(f"{path}: the top level must be an object with fps, features, data_path, ...")
    version = str(info.get("codebase_version", "?"))
    if not version.startswith("v3"):
        raise StoreError(
            f"{path}: codebase_version {version}; dexagent reads LeRobot v3 datasets "
            "(convert older ones with LeRobot's convert_dataset_v21_to_v30)"
        )
    for key in ("fps", "features", "data_path"):
        if key not in info:
            raise StoreError(f"{path}: the field {key!r} is missing")
    fps = info["fps"]
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps <= 1000:
        raise StoreError(f"{path}: fps must be a number of frames per second in (0, 1000], got {fps!r}")
    features = info["features"]
    if not isinstance(features, dict) or not all(isinstance(spec, dict) for spec in features.values()):
        raise StoreError(f"{path}: features must be an object of feature name -> {{dtype, shape, ...}}")
    for key in ("data_path", "video_path"):
        if key in info and not isinstance(info[key], str):
            raise StoreError(f"{path}: {key} must be a path template (text), got {info[key]!r}")
    return info


def dataset_file(root: Path, info: dict[str, Any], template_key: str, **fields: Any) -> Path:
    """The file a path template of info.json names, which must lie inside the dataset folder."""
    template = str(info.get(template_key, ""))
    try:
        relative = template.format(**fields)
    except (KeyError, IndexError, ValueError, AttributeError) as error:
        raise StoreError(
            f"{layout.INFO_PATH}: {template_key} {template!r} is not a path template ({error})"
        ) from None
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise StoreError(f"{layout.INFO_PATH}: {template_key} {template!r} points outside the dataset {root}")
    return path


def map_features(info: dict[str, Any], overrides: dict[str, str] | None) -> dict[str, str]:
    """Store array -> dataset feature; raises naming a required feature the dataset lacks."""
    unknown = set(overrides or {}) - set(layout.FEATURE_OF_ARRAY)
    if unknown:
        raise StoreError(
            f"cannot map {', '.join(sorted(unknown))}: "
            f"the store's arrays are {', '.join(layout.FEATURE_OF_ARRAY)}"
        )
    names = {**layout.FEATURE_OF_ARRAY, **(overrides or {})}
    features = info["features"]
    mapping: dict[str, str] = {}
    for array, feature in names.items():
        if feature not in features:
            if array in layout.REQUIRED_ARRAYS:
                raise StoreError(
                    f"the dataset has no feature {feature!r} for {array} (its features: "
                    f"{', '.join(features)}); map one with --feature {array}=NAME"
                )
            continue
        spec = features[feature]
        shape, dtype = spec.get("shape", []), spec.get("dtype")
        if not isinstance(shape, list) or not all(isinstance(n, int) and n > 0 for n in shape):
            raise StoreError(f"feature {feature!r}: shape must be a list of positive integers, got {shape!r}")
        if array in IMAGE_ARRAYS and len(shape) != 3:
            raise StoreError(f"feature {feature!r} ({array}): an image's shape is [H, W, C], got {shape}")
        if array in ("state", "action") and len(shape) != 1:
            raise StoreError(
                f"feature {feature!r} ({array}) has shape {shape}; the store needs [J], one per joint"
            )
        if array in IMAGE_ARRAYS and dtype not in ("video", "image"):
            raise StoreError(
                f"feature {feature!r} ({array}) is {dtype}; the store needs a video or image feature"
            )
        mapping[array] = feature
    state, action = (features[mapping[a]]["shape"] for a in ("state", "action"))
    if state != action:
        raise StoreError(
            f"the store keeps one state and one action value per joint: {mapping['state']!r} has shape "
            f"{state}, {mapping['action']!r} {action}"
        )
    return mapping


def _decode_image(cell: Any, root: Path, feature: str) -> np.ndarray:
    """An image feature's cell: embedded bytes (a finished dataset) or a file under the dataset root."""
    if cell is not None and cell.get("bytes"):
        source: Any = io.BytesIO(cell["bytes"])
    elif cell is not None and cell.get("path"):
        source = (root / str(cell["path"])).resolve()
        if not source.is_relative_to(root.resolve()) or not source.is_file():
            raise StoreError(f"feature {feature!r}: image file {cell['path']!r} is not a file inside {root}")
    else:
        raise StoreError(f"feature {feature!r}: a frame has neither image bytes nor a path")
    try:
        with Image.open(source) as image:
            return np.asarray(image.convert("RGB"))
    except OSError as error:
        raise StoreError(f"feature {feature!r}: an image does not decode: {error}") from None


def remove_if_new_and_empty(store: Path, created: bool) -> None:
    """After a failed import: a store this import created and never committed to leaves no trace."""
    try:
        empty = created and DemoStore.open(store).num_episodes == 0
    except StoreError:
        empty = created
    if empty:
        shutil.rmtree(store, ignore_errors=True)


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    """(x1, y1, x2, y2) around the true pixels of bool[H, W]; zeros when there are none."""
    ys, xs = np.nonzero(mask)
    if not xs.size:
        return (0.0, 0.0, 0.0, 0.0)
    return (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


def square_images(images: np.ndarray, size: int | None, mask: bool) -> np.ndarray:
    """Centre-crop [T, H, W(, 3)] to a square and resize it to `size` (None: keep; must be square)."""
    height, width = images.shape[1:3]
    if size is None:
        return images
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    cropped = images[:, top : top + side, left : left + side]
    if side == size:
        return cropped
    resample = Image.Resampling.NEAREST if mask else Image.Resampling.BILINEAR
    return np.stack([np.asarray(Image.fromarray(image).resize((size, size), resample)) for image in cropped])


class _EpisodeReader:
    """Frames of one dataset's episodes, decoding each data file and each video file once in order."""

    def __init__(self, root: Path, info: dict[str, Any], mapping: dict[str, str]) -> None:
        self.root, self.info, self.mapping = root, info, mapping
        self.fps = float(info["fps"])
        self._data_key: tuple[int, int] | None = None
        self._data: Any = None
        self._videos = {array: VideoFileReader(self.fps) for array in mapping}

    def _data_table(self, chunk: int, file: int) -> Any:
        if self._data_key != (chunk, file):
            path = dataset_file(self.root, self.info, "data_path", chunk_index=chunk, file_index=file)
            self._data = read_table([path], str(path)) if path.is_file() else None
            if self._data is None:
                raise StoreError(f"missing data file {path}")
            self._data_key = (chunk, file)
        return self._data

    def read(self, row: dict[str, Any]) -> dict[str, np.ndarray]:
        episode, length = int(row["episode_index"]), int(row["length"])
        table = self._data_table(int(row["data/chunk_index"]), int(row["data/file_index"]))
        indices = np.flatnonzero(np.asarray(table["episode_index"]) == episode)
        order = np.argsort(np.asarray(table["frame_index"])[indices])
        rows = table.take(indices[order])
        if rows.num_rows != length:
            raise StoreError(
                f"episode {episode}: meta/episodes says {length} frames, data has {rows.num_rows}"
            )
        arrays: dict[str, np.ndarray] = {"task_index": np.asarray(rows["task_index"])}
        for array, feature in self.mapping.items():
            spec = self.info["features"][feature]
            if spec["dtype"] == "video":
                video_path = dataset_file(
                    self.root,
                    self.info,
                    "video_path",
                    video_key=feature,
                    chunk_index=int(row[f"videos/{feature}/chunk_index"]),
                    file_index=int(row[f"videos/{feature}/file_index"]),
                )
                values = self._videos[array].read(
                    video_path, float(row[f"videos/{feature}/from_timestamp"]), length
                )
            elif spec["dtype"] == "image":
                values = np.stack(
                    [_decode_image(cell, self.root, feature) for cell in rows[feature].to_pylist()]
                )
            else:
                values = np.asarray(rows[feature].combine_chunks().flatten(), np.float32).reshape(length, -1)
            arrays[array] = values[..., 0] > 127 if array in MASK_ARRAYS else values
        return arrays

    def close(self) -> None:
        for reader in self._videos.values():
            reader.close()


def _metadata(row: dict[str, Any], task: str, head_mask: np.ndarray, steps: int) -> EpisodeMetadata:
    def column(name: str, default: Any) -> Any:
        value = row.get(layout.METADATA_PREFIX + name)
        return default if value is None else value

    box = column("target_box", None)
    if box is None:  # a dataset recorded elsewhere: the box around the target in the first frame
        box = mask_box(head_mask[0])
    return EpisodeMetadata(
        seed=int(column("seed", -1)),
        split=str(column("split", "imported")),
        skill=str(column("skill", "grasp")),
        target_name=str(column("target_name", "")),
        target_category=str(column("target_category", "")),
        target_colour=str(column("target_colour", "")),
        target_tags=tuple(str(t) for t in column("target_tags", ())),
        instruction=task,
        target_box=tuple(float(v) for v in box),  # type: ignore[arg-type]
        steps=steps,
    )


def import_lerobot(
    source: Path,
    out: Path,
    *,
    feature_names: dict[str, str] | None = None,
    image_size: int | None = None,
    on_episode: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Append every episode of the LeRobot v3 dataset `source` to the store `out` (created if absent)."""
    info = load_info(source)
    mapping = map_features(info, feature_names)
    tasks = read_tasks(source / layout.TASKS_PATH)
    rows = _episode_rows(source, info, mapping)
    sizes = _store_image_sizes(info, mapping, image_size)
    missing = tuple(a for a in layout.FEATURE_OF_ARRAY if a not in mapping)
    reader = _EpisodeReader(source, info, mapping)
    created = not out.exists()
    joints = info["features"][mapping["action"]]["shape"][0]
    try:
        with DemoStore.create_or_append(
            out, image_size=sizes[0], wrist_size=sizes[1], control_hz=float(info["fps"]), joints=joints
        ) as store:
            for position, row in enumerate(rows):
                try:
                    arrays = reader.read(row)
                except KeyError as error:  # pyarrow names the column a data file lacks
                    raise StoreError(f"{source}: a data file lacks the column {error}") from None
                steps = int(row["length"])
                frames = _episode_frames(arrays, sizes, missing, steps)
                task = tasks.get(int(arrays["task_index"][0]), "")
                store.append_episode(frames, _metadata(row, task, frames.head_mask, steps))
                if on_episode is not None:
                    on_episode(position)
            frame_count = store.num_frames
    except BaseException:
        remove_if_new_and_empty(out, created)
        raise
    finally:
        reader.close()
    return ImportSummary(len(rows), frame_count, *sizes, missing)


def _episode_rows(source: Path, info: dict[str, Any], mapping: dict[str, str]) -> list[dict[str, Any]]:
    """The rows of meta/episodes (stats left out) in episode order, checked for the columns the
    mapped features need to be found in the data and video files."""
    episode_files = sorted((source / "meta" / "episodes").glob("*/*.parquet"))
    table = read_table(episode_files, f"{source}/meta/episodes")
    columns = [name for name in table.column_names if not name.startswith("stats/")]
    needed = ["episode_index", "length", "data/chunk_index", "data/file_index"]
    for feature in mapping.values():
        if info["features"][feature]["dtype"] == "video":
            needed += [f"videos/{feature}/{name}" for name in ("chunk_index", "file_index", "from_timestamp")]
    absent = [name for name in needed if name not in columns]
    if absent:
        raise StoreError(f"{source}/meta/episodes lacks the column(s) {', '.join(absent)}")
    rows = sorted(table.select(columns).to_pylist(), key=lambda r: int(r["episode_index"]))
    if not rows:
        raise StoreError(f"{source} holds no episodes")
    return rows


def _store_image_sizes(
    info: dict[str, Any], mapping: dict[str, str], image_size: int | None
) -> tuple[int, int]:
    """The store's (head, wrist) image sizes: `image_size` for both, else the dataset's own when
    each camera's mapped images (the head's with the target and table masks, the wrist's with
    its table mask) are square and of one size."""
    if image_size is not None:
        return image_size, image_size
    sides = []
    for camera, arrays in (
        ("head", [a for a in IMAGE_ARRAYS if a not in WRIST_ARRAYS]),
        ("wrist", list(WRIST_ARRAYS)),
    ):
        sizes = {tuple(info["features"][mapping[a]]["shape"][:2]) for a in arrays if a in mapping}
        if len(sizes) != 1 or (side := next(iter(sizes)))[0] != side[1]:
            shapes = ", ".join(f"{h}x{w}" for h, w in sorted(sizes))
            raise StoreError(
                f"the store needs square images of one size per camera, the dataset's {camera} "
                f"images are {shapes}: give --image-size"
            )
        sides.append(int(side[0]))
    return sides[0], sides[1]


def _episode_frames(
    arrays: dict[str, np.ndarray], sizes: tuple[int, int], missing: tuple[str, ...], steps: int
) -> EpisodeFrames:
    """One episode's decoded arrays as the store's frames: images squared to their camera's size
    (`sizes`: head, wrist), a mask the dataset lacks (in `missing`) all False."""
    side = {a: sizes[1] if a in WRIST_ARRAYS else sizes[0] for a in IMAGE_ARRAYS}
    images = {a: square_images(arrays[a], side[a], a in MASK_ARRAYS) for a in IMAGE_ARRAYS if a in arrays}
    for array in missing:
        if array in MASK_ARRAYS:
            images[array] = np.zeros((steps, side[array], side[array]), np.bool_)
    return EpisodeFrames(
        action=arrays["action"].astype(np.float32),
        state=arrays["state"].astype(np.float32),
        **{k: images[k] if k in MASK_ARRAYS else images[k].astype(np.uint8) for k in IMAGE_ARRAYS},
    )
