"""The official DexGraspVLA controller's zarr layout, imported into and exported from our store.

```
PATH/data/action         (K, J)        float32  arm + hand targets (J = 13 in the official code)
PATH/data/right_state    (K, J)        float32  arm + hand proprioception
PATH/data/rgbm           (K, H, W, 4)  uint8    head RGB, 4th channel the target mask (0/1)
PATH/data/right_cam_img  (K, H, W, 3)  uint8    wrist RGB
PATH/meta/episode_ends   (J,)          int64
```

That is what the official `MaskImageDataset` reads (controller/dataset/mask_image_dataset.py);
it thresholds the mask channel at 0.5, so 0/1 and 0/255 masks both import. We write zarr
format 2, which the official code's zarr 2 reads. Our per-episode metadata rides along as
a root attribute and the sim table masks as extra arrays, both ignored by the official
reader and used by our import, so a round trip loses nothing. Values are copied as they
are: the official robot's joint units must match the robot you train for.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from numcodecs import Zstd

from dexagent.controller.data.lerobot_import import (
    ImportSummary,
    mask_box,
    remove_if_new_and_empty,
    square_images,
)
from dexagent.controller.data.store import DemoStore, EpisodeFrames, EpisodeMetadata, StoreError

REQUIRED = ("data/action", "data/right_state", "data/rgbm", "data/right_cam_img", "meta/episode_ends")
TABLE_ARRAYS = {"head_table": "data/head_table", "wrist_table": "data/wrist_table"}
METADATA_ATTR = "dexagent_episodes"
IMAGE_CHUNK_FRAMES = 64


def export_dexgraspvla(
    store: DemoStore,
    out: Path,
    *,
    table_masks: bool = True,
    on_episode: Callable[[int], None] | None = None,
) -> int:
    """Write every committed episode of `store` to `out` in the official layout; returns bytes written."""
    if out.exists():
        raise StoreError(f"{out} already exists; give a new path for the DexGraspVLA store")
    if store.num_episodes == 0:
        raise StoreError(f"{store.path} holds no episodes to export")
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    frames_total, size, wrist, joints = store.num_frames, store.image_size, store.wrist_size, store.joints
    try:
        root = zarr.open_group(str(staging), mode="w", zarr_format=2)
        shapes: dict[str, tuple[tuple[int, ...], str, tuple[int, ...]]] = {
            "data/action": ((frames_total, joints), "float32", (4096, joints)),
            "data/right_state": ((frames_total, joints), "float32", (4096, joints)),
            "data/rgbm": ((frames_total, size, size, 4), "uint8", (IMAGE_CHUNK_FRAMES, size, size, 4)),
            # Separate arrays per camera: a wrist recorded at its own size is written at that size.
            "data/right_cam_img": (
                (frames_total, wrist, wrist, 3),
                "uint8",
                (IMAGE_CHUNK_FRAMES, wrist, wrist, 3),
            ),
        }
        if table_masks:
            for key, name in TABLE_ARRAYS.items():
                side = wrist if key == "wrist_table" else size
                shapes[name] = ((frames_total, side, side), "bool", (IMAGE_CHUNK_FRAMES, side, side))
        # numcodecs' Zstd, which zarr 2 reads (for 96 px images 1.7 MB vs zarr's v2 default Blosc-LZ4's 9.7).
        arrays = {
            name: root.create_array(name, shape=s, dtype=d, chunks=c, compressors=Zstd(level=3))
            for name, (s, d, c) in shapes.items()
        }
        for episode in range(store.num_episodes):
            frames, span = store.episode(episode), store.episode_slice(episode)
            arrays["data/action"][span] = frames.action
            arrays["data/right_state"][span] = frames.state
            arrays["data/rgbm"][span] = np.concatenate(
                [frames.head_rgb, frames.head_mask[..., None].astype(np.uint8)], axis=-1
            )
            arrays["data/right_cam_img"][span] = frames.wrist_rgb
            if table_masks:
                for key, name in TABLE_ARRAYS.items():
                    arrays[name][span] = getattr(frames, key)
            if on_episode is not None:
                on_episode(episode)
        root.create_array("meta/episode_ends", data=store.episode_ends.astype(np.int64), chunks=(1024,))
        root.attrs[METADATA_ATTR] = [_metadata_json(m) for m in store.iter_metadata()]
        root.attrs["control_hz"] = store.control_hz
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sum(f.stat().st_size for f in out.rglob("*") if f.is_file())


def _metadata_json(metadata: EpisodeMetadata) -> dict[str, Any]:
    row = dataclasses.asdict(metadata)
    row["target_tags"], row["target_box"] = list(metadata.target_tags), list(metadata.target_box)
    return row


def arrays_of(root: zarr.Group, name: str) -> zarr.Array:
    array = root[name]
    if not isinstance(array, zarr.Array):
        raise StoreError(f"{name} is a group, expected an array")
    return array


def _open(source: Path) -> tuple[zarr.Group, dict[str, zarr.Array]]:
    try:
        root = zarr.open_group(str(source), mode="r")
    except (OSError, ValueError, KeyError, FileNotFoundError) as error:
        raise StoreError(f"cannot open {source} as a zarr store: {error}") from error
    arrays: dict[str, zarr.Array] = {}
    for name in REQUIRED:
        try:
            array = root[name]
        except KeyError:
            raise StoreError(
                f"{source} is not in the DexGraspVLA layout: the array {name} is missing"
            ) from None
        if not isinstance(array, zarr.Array):
            raise StoreError(f"{source}/{name} is a group, expected an array")
        arrays[name] = array
    frames = arrays["data/action"].shape[0]
    joints = arrays["data/action"].shape[1:]
    for name in ("data/action", "data/right_state"):
        if len(arrays[name].shape) != 2 or tuple(arrays[name].shape[1:]) != joints:
            raise StoreError(
                f"{source}/{name} has shape {list(arrays[name].shape)}; expected (K, J), the same J "
                f"joints in data/action and data/right_state"
            )
    for name, channels in (("data/rgbm", 4), ("data/right_cam_img", 3)):
        shape = arrays[name].shape
        if len(shape) != 4 or shape[3] != channels:
            raise StoreError(f"{source}/{name} has shape {list(shape)}; expected (K, H, W, {channels})")
    for name in REQUIRED[:4]:
        if arrays[name].shape[0] != frames:
            raise StoreError(f"{source}/{name} has {arrays[name].shape[0]} frames, data/action has {frames}")
    ends = np.asarray(arrays["meta/episode_ends"][:], dtype=np.int64)
    if ends.size == 0 or ends[0] <= 0 or np.any(np.diff(ends) <= 0) or ends[-1] != frames:
        raise StoreError(f"{source}/meta/episode_ends must increase strictly and end at the {frames} frames")
    return root, arrays


def import_dexgraspvla(
    source: Path,
    out: Path,
    *,
    image_size: int | None = None,
    control_hz: float = 20.0,
    on_episode: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Append every episode of the official-layout store `source` to our store `out` (each camera
    at its own size, or both squared to `image_size`)."""
    root, arrays = _open(source)
    image_size, wrist_size = _camera_sizes(source, arrays, image_size)
    attrs: dict[str, Any] = dict(root.attrs)
    described = attrs.get(METADATA_ATTR)
    ends = np.asarray(arrays["meta/episode_ends"][:], dtype=np.int64)
    if not isinstance(described, list) or len(described) != len(ends):
        described = None  # recorded by the official code: no metadata of ours
    tables = {key: arrays_of(root, name) for key, name in TABLE_ARRAYS.items() if name in root}
    missing = tuple(key for key in TABLE_ARRAYS if key not in tables)
    hz = float(attrs.get("control_hz", control_hz))
    created = not out.exists()
    try:
        joints = int(arrays["data/action"].shape[1])
        with DemoStore.create_or_append(
            out, image_size=image_size, wrist_size=wrist_size, control_hz=hz, joints=joints
        ) as store:
            start = 0
            for episode, end in enumerate(ends):
                span, steps = slice(start, int(end)), int(end) - start
                rgbm = np.asarray(arrays["data/rgbm"][span])
                head_mask = square_images(rgbm[..., 3] > 0, image_size, mask=True)
                frames = EpisodeFrames(
                    action=np.asarray(arrays["data/action"][span], np.float32),
                    state=np.asarray(arrays["data/right_state"][span], np.float32),
                    head_rgb=square_images(np.ascontiguousarray(rgbm[..., :3]), image_size, mask=False),
                    head_mask=head_mask,
                    wrist_rgb=square_images(
                        np.asarray(arrays["data/right_cam_img"][span]), wrist_size, mask=False
                    ),
                    **{
                        key: square_images(np.asarray(tables[key][span], bool), side, mask=True)
                        if key in tables
                        else np.zeros((steps, side, side), np.bool_)
                        for key, side in (("head_table", image_size), ("wrist_table", wrist_size))
                    },
                )
                metadata = _metadata(described[episode] if described else None, head_mask, steps)
                store.append_episode(frames, metadata)
                if on_episode is not None:
                    on_episode(episode)
                start = int(end)
            frame_count = store.num_frames
    except BaseException:
        remove_if_new_and_empty(out, created)
        raise
    return ImportSummary(len(ends), frame_count, image_size, wrist_size, missing)


def _camera_sizes(source: Path, arrays: dict[str, zarr.Array], image_size: int | None) -> tuple[int, int]:
    """The store's (head, wrist) image sizes: `image_size` for both, else each camera's own, which
    must then be square."""
    if image_size is not None:
        return image_size, image_size
    head, wrist = arrays["data/rgbm"].shape[1:3], arrays["data/right_cam_img"].shape[1:3]
    if head[0] != head[1] or wrist[0] != wrist[1]:
        raise StoreError(
            f"the store needs square images; {source} has head {head[0]}x{head[1]} and wrist "
            f"{wrist[0]}x{wrist[1]}: give --image-size"
        )
    return int(head[0]), int(wrist[0])


def _metadata(row: dict[str, Any] | None, head_mask: np.ndarray, steps: int) -> EpisodeMetadata:
    if row is not None:
        try:
            return EpisodeMetadata(
                **{
                    **row,
                    "target_tags": tuple(row["target_tags"]),
                    "target_box": tuple(row["target_box"]),
                    "steps": steps,
                }
            )
        except (TypeError, KeyError) as error:
            raise StoreError(
                f"the root attribute {METADATA_ATTR!r} has a malformed episode row: {error}"
            ) from None
    return EpisodeMetadata(
        seed=-1,
        split="imported",
        skill="grasp",
        target_name="",
        target_category="",
        target_colour="",
        target_tags=(),
        instruction="",
        target_box=mask_box(head_mask[0]),
        steps=steps,
    )
