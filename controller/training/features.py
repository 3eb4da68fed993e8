"""Frozen-encoder feature cache: encode every frame once, train from the stored features.

A frozen encoder (the paper's DINOv2) gives the same features for a frame at every
epoch, and at 518 px it dominates a training step. The cache lives next to the data,
`<store>.features/<key>/` (zarr), where the key names the encoder and the image size and
hashes the encoder's config, its weights, the precision it computed in, the store's episode
boundaries and the frames encoded: a different encoder, size, precision, stride or a grown store
gets a new cache, never a stale one. Features are stored in half precision (a DINOv2-S token is
768 bytes instead of 1,536) with the list of frames they belong to (`frames`), so a strided cache
holds only the frames a run trains from; the attributes record both dtypes (`encoder_precision`,
fp32 or bf16, and `dtype`, the stored one).

A frozen encoder never sees a training augmentation unless the augmentation happens before the
cache: with `views` > 1 every frame is encoded `views` times, as recorded (view 0) and through
the run's augmentations (re-textured table, re-lighting, colour jitter), each view drawn from
its own seeded generator. Arrays are (frames, views, tokens, width); training draws one view
per sample, validation and inference use view 0.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import zarr

from dexagent.controller.data.augment import ImageAugment, apply_augments, build_augments, uses_plane
from dexagent.controller.data.dataset import DemoArrays
from dexagent.controller.data.table_plane import store_camera_coordinates
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.preprocess import mask_to_tensor, rgb_to_tensor

CACHE_FORMAT = "dexagent-feature-cache"
CACHE_VERSION = 3  # 3: a views axis after the frames
# Caches larger than this stay on disk and are read row by row (a 518 px DINOv2 B+L frame is ~10 MB).
MAX_MEMORY_BYTES = 8 * 2**30
CHUNK_BYTES = 4 * 2**20


class FeatureCacheError(RuntimeError):
    """The feature cache cannot be built or read."""


def frozen_feature_keys(policy: DexGraspPolicy) -> list[str]:
    """The batch keys ("head_features", "wrist_features") whose encoder is frozen in this policy."""
    config = policy.config
    keys = []
    if config.head_encoder.frozen:
        keys.append("head_features")
    if config.wrist_encoder.frozen:
        keys.append("wrist_features")
    return keys


@dataclass(frozen=True)
class FeatureViews:
    """How many times each frame is encoded: view 0 as recorded, the others through `augment`
    (the training config's (type, probability) list), drawn from generators seeded by `seed`."""

    count: int = 1
    augment: tuple[tuple[str, float], ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.count < 1:
            raise FeatureCacheError(f"feature views must be at least 1, got {self.count}")
        if self.count > 1 and not build_augments(self.augment):
            raise FeatureCacheError(
                f"{self.count} feature views need an augmentation to draw them (--augment), got none"
            )

    def describe(self) -> str:
        """What keys a cache: nothing for one plain view, so such caches keep their names."""
        return "" if self.count == 1 else json.dumps([self.count, list(self.augment), self.seed])


def cache_key(
    policy: DexGraspPolicy, arrays: DemoArrays, frames: np.ndarray, views: FeatureViews = FeatureViews()
) -> str:
    """`<encoder id>-<size>px-<hash>`: readable in a listing, unique for encoder + weights + data +
    frames + views."""
    config = policy.config
    digest = hashlib.sha256()
    digest.update(str(config.image_size).encode())
    sizes = f"{config.image_size}"
    if config.wrist_input_size != config.image_size:  # one size for both keeps the names caches had
        sizes += f"+{config.wrist_input_size}"  # `224+96px`
        digest.update(f"wrist {config.wrist_input_size}".encode())
    digest.update(arrays.fingerprint().encode())
    digest.update(np.asarray(frames, dtype=np.int64).tobytes())
    digest.update(views.describe().encode())
    precision = policy.frozen_encoder_precision()
    if precision != "fp32":  # fp32 caches keep the names they had before precisions were a choice
        digest.update(precision.encode())
    names = []
    for key in frozen_feature_keys(policy):
        encoder_config = config.head_encoder if key == "head_features" else config.wrist_encoder
        digest.update(json.dumps(encoder_config.__dict__, sort_keys=True, default=str).encode())
        names.append(Path(encoder_config.source).name or encoder_config.kind)
        encoder = policy.head_encoder if key == "head_features" else policy.wrist_encoder
        for name, tensor in sorted(encoder.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().float().cpu().numpy().tobytes())
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", "+".join(dict.fromkeys(names)))
    shown_views = f"-{views.count}views" if views.count > 1 else ""
    shown_precision = "" if precision == "fp32" else f"-{precision}"
    return f"{readable}-{sizes}px{shown_views}{shown_precision}-{digest.hexdigest()[:12]}"


def cache_dir(data_path: str | Path) -> Path:
    """The folder holding every feature cache of one store."""
    data_path = Path(data_path)
    return data_path.parent / f"{data_path.name}.features"


def _augmented(
    images: dict[str, torch.Tensor],
    tables: dict[str, torch.Tensor],
    planes: dict[str, torch.Tensor],
    augments: Sequence[ImageAugment],
    generator: torch.Generator,
) -> dict[str, torch.Tensor]:
    """Both cameras of each frame through `augments` in order, sharing what a sample shares (a table's
    colours, a light, a pattern), as training augments the images of a trainable encoder."""
    batch = next(iter(images.values())).shape[0]
    drawn = [augment.draw(batch, generator) for augment in augments]
    return {
        camera: apply_augments(augments, drawn, rgb, tables[camera], generator, planes.get(camera))
        for camera, rgb in images.items()
    }


def _augment_inputs(
    arrays: DemoArrays, block: np.ndarray, sizes: dict[str, int], augments: Sequence[ImageAugment]
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """What `augments` read beside a block's images: each camera's table masks (none without
    augmentations) and table coordinates (none unless one paints in them)."""
    if not augments:
        return {}, {}
    low, high = int(block[0]), int(block[-1]) + 1
    tables = {
        camera: mask_to_tensor(
            np.asarray(getattr(arrays, camera.replace("_rgb", "_table"))[low:high])[block - low], size
        )
        for camera, size in sizes.items()
    }
    planes = {}
    if uses_plane(augments):
        states = np.asarray(arrays.state[low:high])[block - low]
        planes = {camera: store_camera_coordinates(camera, states, size) for camera, size in sizes.items()}
    return tables, planes


@torch.inference_mode()
def build_feature_cache(
    policy: DexGraspPolicy,
    arrays: DemoArrays,
    path: Path,
    frames: np.ndarray,
    *,
    views: FeatureViews = FeatureViews(),
    batch_size: int = 32,
    device: torch.device | str = "cpu",
    on_progress: Callable[[int, int], None] | None = None,
) -> None:
    """Encode `frames` (int64, increasing) with the policy's frozen encoders into a zarr group at `path`.

    Written frame block by frame block (a paper-size cache does not fit in memory while it
    is built); the `complete` attribute is set last, so an interrupted build is redone.
    """
    keys = frozen_feature_keys(policy)
    if not keys:
        raise FeatureCacheError("this policy has no frozen encoder: there are no features to cache")
    if path.exists():
        shutil.rmtree(path)
    root = zarr.open_group(str(path), mode="w")
    frames = np.asarray(frames, dtype=np.int64)
    if len(frames) == 0 or (np.diff(frames) <= 0).any():
        raise FeatureCacheError("the frames to cache must be a non-empty increasing list")
    root.create_array("frames", data=frames)
    sizes = {camera: policy.config.input_size(camera) for camera in ("head_rgb", "wrist_rgb")}
    augments = build_augments(views.augment) if views.count > 1 else []
    targets: dict[str, zarr.Array] = {}
    was_training = policy.training
    policy.eval()
    try:
        for start in range(0, len(frames), batch_size):
            block = frames[start : start + batch_size]
            # One contiguous read per camera, then the block's frames out of it (zarr or numpy).
            low, high = int(block[0]), int(block[-1]) + 1
            images = {
                camera: rgb_to_tensor(np.asarray(getattr(arrays, camera)[low:high])[block - low], size)
                for camera, size in sizes.items()
            }
            tables, planes = _augment_inputs(arrays, block, sizes, augments)
            encoded_views: dict[str, list[np.ndarray]] = {key: [] for key in keys}
            for view in range(views.count):
                shown = images
                if view > 0:
                    generator = torch.Generator().manual_seed((views.seed * 1_000_003 + start) * 64 + view)
                    shown = _augmented(images, tables, planes, augments, generator)
                encoded = policy.encode_frozen(shown["head_rgb"].to(device), shown["wrist_rgb"].to(device))
                for key in keys:
                    encoded_views[key].append(encoded[key].float().cpu().numpy().astype(np.float16))
            for key in keys:
                values = np.stack(encoded_views[key], axis=1)  # (b, views, N, D)
                if key not in targets:
                    targets[key] = root.create_array(
                        key,
                        shape=(len(frames), *values.shape[1:]),
                        chunks=(batch_size, *values.shape[1:]),
                        dtype="float16",
                    )
                targets[key][start : start + len(block)] = values
            if on_progress is not None:
                on_progress(start + len(block), len(frames))
    finally:
        policy.train(was_training)
    root.attrs.update(
        {
            "format": CACHE_FORMAT,
            "format_version": CACHE_VERSION,
            "frames": len(frames),
            "views": views.count,
            "encoder_precision": policy.frozen_encoder_precision(),
            "dtype": "float16",
            "complete": True,
        }
    )


class LazyFeatures:
    """Row access to an on-disk feature array too big for memory (a paper-size cache)."""

    def __init__(self, array: zarr.Array) -> None:
        self.array = array
        self.shape = array.shape

    def __getitem__(self, frames: np.ndarray) -> np.ndarray:
        """float16 (len(frames), views, N, D) for the given cache rows, in their order."""
        unique, inverse = np.unique(np.asarray(frames), return_inverse=True)
        rows = np.asarray(self.array.oindex[unique])  # one read per touched chunk
        return rows[inverse]


def read_feature_cache(
    path: Path,
    keys: list[str],
    frames: np.ndarray,
    views: int = 1,
    max_memory_bytes: int = MAX_MEMORY_BYTES,
) -> dict[str, np.ndarray | LazyFeatures] | None:
    """The cached features (in memory when they fit in `max_memory_bytes`) and their "frames", or None
    when the cache is absent, incomplete, or holds other frames."""
    if not (path / "zarr.json").is_file():
        return None
    try:
        root = zarr.open_group(str(path), mode="r")
        attrs = root.attrs
        if (
            attrs.get("format") != CACHE_FORMAT
            or attrs.get("format_version") != CACHE_VERSION
            or not attrs.get("complete")
        ):
            return None
        stored = root["frames"]
        if not isinstance(stored, zarr.Array) or not np.array_equal(np.asarray(stored[:]), frames):
            return None
        arrays: dict[str, zarr.Array] = {}
        for key in keys:
            array = root[key]
            if not isinstance(array, zarr.Array) or array.shape[:2] != (len(frames), views):
                return None
            arrays[key] = array
        total = sum(int(np.prod(array.shape)) * array.dtype.itemsize for array in arrays.values())
        features: dict[str, np.ndarray | LazyFeatures] = {"frames": np.asarray(frames)}
        if total > max_memory_bytes:
            features.update({key: LazyFeatures(array) for key, array in arrays.items()})
        else:
            features.update({key: np.asarray(array[:]) for key, array in arrays.items()})
        return features
    except (KeyError, OSError, ValueError):
        return None  # a damaged cache is rebuilt, not trusted


def load_or_build_feature_cache(
    data_path: str | Path,
    policy: DexGraspPolicy,
    arrays: DemoArrays,
    frames: np.ndarray,
    *,
    views: FeatureViews = FeatureViews(),
    build: bool = True,
    device: torch.device | str = "cpu",
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, np.ndarray | LazyFeatures], Path]:
    """The features of `frames` (float16 (N, views, T, D) per frozen camera, plus "frames") and their folder.

    With `build=False` (non-main processes in multi-GPU runs) a missing cache is an error.
    """
    keys = frozen_feature_keys(policy)
    if not keys:
        config_name = policy.config.name
        raise FeatureCacheError(
            f"--cache-features needs a frozen encoder, but config {config_name!r} trains both of its encoders"
        )
    frames = np.asarray(frames, dtype=np.int64)
    path = cache_dir(data_path) / cache_key(policy, arrays, frames, views)
    cached = read_feature_cache(path, keys, frames, views.count)
    if cached is None:
        if not build:
            raise FeatureCacheError(f"{path}: feature cache missing or incomplete")
        try:
            build_feature_cache(
                policy, arrays, path, frames, views=views, device=device, on_progress=on_progress
            )
        except OSError as error:
            raise FeatureCacheError(f"cannot write the feature cache at {path}: {error}") from None
        cached = read_feature_cache(path, keys, frames, views.count)
        if cached is None:
            raise FeatureCacheError(f"{path}: the feature cache just written does not read back")
    return cached, path
