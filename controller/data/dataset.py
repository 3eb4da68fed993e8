"""The training dataset over a demo store: in memory, or with camera images read from disk per
batch when they would not fit; chunks indexed with numpy.

A sample is one timestep t of one episode: the observation at t (head/wrist RGB,
the target mask at t and at the episode's first frame, the state) and the
action chunk a[t : t+H], padded past the episode's end by repeating its last
action (the robot holds still once the demo is over); for an on-policy episode the
stored label chunk, the expert's continuation from the state at t. Train and validation
are split by episode, never by frame, so no frame of a validation episode is
ever trained on.

Batches are addressed by training step (`StepBatches`), not by an iterator's
state: step s always yields the same samples and the same colour jitter, so a
resumed run sees exactly the data the uninterrupted run would have seen.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dexagent.controller.data.augment import ImageAugment, apply_augments, uses_plane
from dexagent.controller.data.store import DemoStore, StoreError
from dexagent.controller.data.table_plane import store_camera_coordinates
from dexagent.controller.preprocess import mask_to_tensor, rgb_to_tensor

IMAGE_KEYS = ("head_rgb", "wrist_rgb")
# Per-frame images in memory (numpy) or on disk (a zarr array); both index by frame.
ImageArray = Any


class DatasetError(ValueError):
    """The demo store cannot be used for training (missing, empty, inconsistent)."""


@dataclass
class DemoArrays:
    """Every frame of a store, in memory. K frames, E episodes, head images at the store's size P,
    wrist images at its wrist size Q (P unless the wrist camera has a size of its own)."""

    action: np.ndarray  # float32 (K, 13)
    state: np.ndarray  # float32 (K, 13)
    # A camera can keep its images on disk (zarr, read per batch): see `load_demo_arrays`.
    head_rgb: ImageArray  # uint8 (K, P, P, 3)
    wrist_rgb: ImageArray  # uint8 (K, Q, Q, 3)
    head_mask: np.ndarray  # bool (K, P, P)
    head_table: ImageArray  # bool (K, P, P): table-top pixels of head_rgb
    wrist_table: ImageArray  # bool (K, Q, Q): table-top pixels of wrist_rgb
    episode_ends: np.ndarray  # int64 (E,), exclusive ends
    source: str = ""
    # int64 (E,) collection round of each episode (not given: every episode is round 0)
    rounds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # float32 (K, H, J): the chunk to learn at each frame, where a store holds on-policy episodes
    # (the expert's continuation from the student's state). None: each frame's next actions.
    label_chunk: np.ndarray | None = None
    episode_of_frame: np.ndarray = field(init=False)  # int64 (K,)

    def __post_init__(self) -> None:
        lengths = np.diff(np.concatenate([[0], self.episode_ends]))
        self.episode_of_frame = np.repeat(np.arange(len(self.episode_ends)), lengths)
        if self.rounds.size == 0:
            self.rounds = np.zeros(len(self.episode_ends), dtype=np.int64)

    @property
    def num_episodes(self) -> int:
        return len(self.episode_ends)

    @property
    def num_frames(self) -> int:
        return int(self.episode_ends[-1]) if len(self.episode_ends) else 0

    @property
    def image_size(self) -> int:
        """P: the side of the stored head camera frames."""
        return int(self.head_mask.shape[1])

    @property
    def wrist_size(self) -> int:
        """Q: the side of the stored wrist camera frames."""
        return int(self.wrist_rgb.shape[1])

    def episode_starts(self) -> np.ndarray:
        """int64 (E,) first frame of every episode."""
        return np.concatenate([[0], self.episode_ends[:-1]]).astype(np.int64)

    def frames_of(self, episodes: np.ndarray) -> np.ndarray:
        """int64 (N,) global indices of every frame of the given episodes."""
        starts, ends = self.episode_starts(), self.episode_ends
        if len(episodes) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(starts[e], ends[e]) for e in episodes]).astype(np.int64)

    def chunks(self, frames: np.ndarray, horizon: int) -> np.ndarray:
        """float32 (B, horizon, J): the action chunk to learn from each frame: the stored label chunk,
        or the episode's next actions, its last repeated past its end."""
        if self.label_chunk is None:
            last = self.episode_ends[self.episode_of_frame[frames]] - 1
            ticks = np.minimum(frames[:, None] + np.arange(horizon)[None, :], last[:, None])
            return self.action[ticks]
        if horizon > self.label_chunk.shape[1]:
            raise DatasetError(
                f"{self.source}: its on-policy episodes store label chunks of {self.label_chunk.shape[1]} "
                f"ticks; a policy with horizon {horizon} cannot learn from them"
            )
        return self.label_chunk[frames, :horizon]

    def fingerprint(self) -> str:
        """Identifies this data for caches: frame count and episode boundaries."""
        digest = hashlib.sha256(self.episode_ends.astype(np.int64).tobytes()).hexdigest()[:12]
        return f"{self.num_frames}-{digest}"


def image_bytes(path: str | Path, cameras: Collection[str] = IMAGE_KEYS) -> int:
    """Bytes the cameras' RGB and table masks of a store take in memory (its committed frames)."""
    try:
        store = DemoStore.open(path)
    except StoreError as error:
        raise DatasetError(str(error)) from None
    frames = int(store.episode_ends[-1]) if store.num_episodes else 0
    total = 0
    for camera in cameras:
        for key in (camera, camera.replace("_rgb", "_table")):
            array = store[key]
            total += frames * int(np.prod(array.shape[1:])) * array.dtype.itemsize
    return total


def read_frames(images: ImageArray, frames: np.ndarray) -> np.ndarray:
    """images[frames] for an array in memory or on disk; a zarr array reads each chunk it needs once
    (frames sorted, repeats read once) and the rows come back in the order asked."""
    if isinstance(images, np.ndarray):
        return images[frames]
    unique, order = np.unique(frames, return_inverse=True)
    return np.asarray(images.oindex[unique])[order]


def load_demo_arrays(path: str | Path, *, on_disk: Collection[str] = ()) -> DemoArrays:
    """Read a demo store into memory once, but for the cameras in `on_disk` ("head_rgb",
    "wrist_rgb"): their RGB and table masks stay on disk (zarr, read per batch). For cameras whose
    frozen encoder's features are cached, and for stores whose images do not fit in memory (96 px
    RGB and table masks of both cameras take 74 KB a frame: 300k frames are 22 GB)."""
    unknown = set(on_disk) - set(IMAGE_KEYS)
    if unknown:
        raise DatasetError(f"on_disk names no camera: {sorted(unknown)} (cameras: {list(IMAGE_KEYS)})")
    left_on_disk = {key for camera in on_disk for key in (camera, camera.replace("_rgb", "_table"))}
    try:
        store = DemoStore.open(path)
    except StoreError as error:
        raise DatasetError(str(error)) from None
    if store.num_episodes == 0:
        raise DatasetError(f"{path}: the store holds no episodes; collect some with `dexagent collect`")
    ends = np.asarray(store.episode_ends, dtype=np.int64)
    frames = int(ends[-1])
    arrays: dict[str, np.ndarray] = {}
    for key in ("action", "state", "head_rgb", "wrist_rgb", "head_mask", "head_table", "wrist_table"):
        try:
            arrays[key] = store[key] if key in left_on_disk else np.asarray(store[key][:frames])
        except (KeyError, StoreError) as error:
            raise DatasetError(f"{path}: cannot read data/{key}: {error}") from None
        # Frames past the committed episodes (a write that was stopped half way) are never read.
        if arrays[key].shape[0] < frames:
            raise DatasetError(
                f"{path}: data/{key} has {arrays[key].shape[0]} frames, meta/episode_ends says {frames}"
            )
    for key in ("action", "state"):  # (K, J): one value per joint of the robot the store was recorded on
        if arrays[key].ndim != 2 or arrays[key].shape[1] == 0:
            raise DatasetError(f"{path}: data/{key} must be (K, J), J joints, got {arrays[key].shape}")
    if not np.isfinite(arrays["action"]).all() or not np.isfinite(arrays["state"]).all():
        raise DatasetError(f"{path}: data/action or data/state holds NaN or inf")
    return DemoArrays(
        action=arrays["action"].astype(np.float32, copy=False),
        state=arrays["state"].astype(np.float32, copy=False),
        head_rgb=arrays["head_rgb"],
        wrist_rgb=arrays["wrist_rgb"],
        head_mask=arrays["head_mask"].astype(bool, copy=False),
        head_table=arrays["head_table"],
        wrist_table=arrays["wrist_table"],
        episode_ends=ends,
        source=str(path),
        rounds=np.asarray(store.metadata_column("round"), dtype=np.int64),
        label_chunk=store.label_chunks() if (store.metadata_column("policy") != "scripted").any() else None,
    )


@dataclass(frozen=True)
class EpisodeSplit:
    """Episode ids (sorted) for training and validation; disjoint."""

    train: np.ndarray
    val: np.ndarray


def chunk_target_range(
    arrays: DemoArrays,
    frames: np.ndarray,
    horizon: int,
    relative: bool,
    *,
    per_offset: bool = False,
    quantile: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The range of what a policy learns to predict over the chunks starting at `frames`: the
    actions, or the actions minus the chunk's first state (`relative`).

    Per dimension, float32 (A,) low and high; with `per_offset`, per chunk offset too,
    (H, A). `quantile` q > 0 takes the q and 1-q quantiles instead of min and max, so a few
    outliers (an arm blocked by the table while its target moves on) do not set the scale.
    """
    if not 0.0 <= quantile < 0.5:
        raise DatasetError(f"quantile must be in [0, 0.5), got {quantile}")
    base = arrays.state[frames] if relative else 0.0
    chunks = arrays.chunks(frames, horizon)
    lows, highs = [], []
    for offset in range(horizon):
        targets = chunks[:, offset] - base
        if quantile > 0:
            low, high = np.quantile(targets, [quantile, 1.0 - quantile], axis=0)
        else:
            low, high = targets.min(0), targets.max(0)
        lows.append(low)
        highs.append(high)
    low_h, high_h = np.asarray(lows, np.float32), np.asarray(highs, np.float32)
    if per_offset:
        return low_h, high_h
    return low_h.min(0), high_h.max(0)


def split_episodes(num_episodes: int, val_fraction: float, seed: int) -> EpisodeSplit:
    """Seeded split by episode. At least one validation episode when val_fraction > 0 and E >= 2."""
    if not 0.0 <= val_fraction < 1.0:
        raise DatasetError(f"val_fraction must be in [0, 1), got {val_fraction}")
    order = np.random.default_rng(seed).permutation(num_episodes)
    n_val = 0
    if val_fraction > 0 and num_episodes >= 2:
        n_val = min(num_episodes - 1, max(1, round(num_episodes * val_fraction)))
    return EpisodeSplit(train=np.sort(order[n_val:]), val=np.sort(order[:n_val]))


def observed_frames(arrays: DemoArrays, episodes: np.ndarray, stride: int = 1) -> np.ndarray:
    """int64 (N,) the frames of `episodes` a policy is trained to act from: every `stride`-th of each.

    Neighbouring 20 Hz frames look almost alike; a stride cuts the frozen-feature cache (and its
    encoding time) by that factor while every action chunk still uses every frame's action.
    """
    if stride < 1:
        raise DatasetError(f"stride must be >= 1, got {stride}")
    frames = arrays.frames_of(np.asarray(episodes, dtype=np.int64))
    first = arrays.episode_starts()[arrays.episode_of_frame[frames]]
    return frames[(frames - first) % stride == 0]


class ChunkDataset:
    """Samples (observation at t, action chunk from t) of a set of episodes.

    `features`: cached frozen-encoder outputs per frame and view, e.g. {"head_features": (K, V, N,
    D)}; a camera with cached features is not sent as RGB (the policy uses the features instead).
    Batches drawn with a generator take a random view per sample (shared by both cameras),
    without one view 0, the frame as recorded.
    """

    def __init__(
        self,
        arrays: DemoArrays,
        episodes: np.ndarray,
        *,
        horizon: int,
        image_size: int,
        wrist_size: int | None = None,
        features: dict[str, Any] | None = None,
        augments: Sequence[ImageAugment] = (),
        augment_cameras: tuple[str, ...] = IMAGE_KEYS,
        stride: int = 1,
        episode_repeats: np.ndarray | None = None,
    ) -> None:
        """`image_size`: the side the head images and masks are resized to, `wrist_size` the wrist
        images' (None: `image_size`), the policy's input sizes. `episode_repeats`: int
        (len(episodes),) how many times each episode's frames are in the sample stream (default once
        each): a weight that keeps batches seeded and resumable."""
        self.arrays = arrays
        self.episodes = np.asarray(episodes, dtype=np.int64)
        self.horizon = horizon
        self.image_size = image_size
        self.wrist_size = image_size if wrist_size is None else wrist_size
        self.features = dict(features or {})
        self.augments = list(augments)  # applied in this order
        self.augment_cameras = augment_cameras  # only cameras with a trainable encoder are augmented
        starts = arrays.episode_starts()
        self._first = starts[arrays.episode_of_frame]  # int64 (K,) first frame of each frame's episode
        self.frames = observed_frames(arrays, self.episodes, stride)  # int64 (N,)
        if episode_repeats is not None:
            repeats = np.zeros(arrays.num_episodes, dtype=np.int64)
            repeats[self.episodes] = np.asarray(episode_repeats, dtype=np.int64)
            self.frames = np.repeat(self.frames, repeats[arrays.episode_of_frame[self.frames]])
        # Cached features may hold only some frames (their "frames" entry): frame -> row.
        self._feature_row = np.arange(arrays.num_frames, dtype=np.int64)
        cached_frames = self.features.pop("frames", None)
        if cached_frames is not None:
            self._feature_row = np.full(arrays.num_frames, -1, dtype=np.int64)
            self._feature_row[np.asarray(cached_frames)] = np.arange(len(cached_frames))
            if (self._feature_row[self.frames] < 0).any():
                raise DatasetError("the feature cache lacks frames this dataset samples (another stride?)")

    def __len__(self) -> int:
        return len(self.frames)

    def batch(
        self, positions: np.ndarray, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """The batch of samples at `positions` (indices into this dataset), as the policy takes it.

        With a generator, trainable-encoder RGB goes through the dataset's augmentations in order.
        """
        frames = self.frames[np.asarray(positions, dtype=np.int64)]
        arrays = self.arrays
        batch: dict[str, torch.Tensor] = {
            "state": torch.from_numpy(arrays.state[frames]),
            "tick": torch.from_numpy((frames - self._first[frames]).astype(np.float32)),
            "action": torch.from_numpy(arrays.chunks(frames, self.horizon)),
            "head_mask": mask_to_tensor(arrays.head_mask[frames], self.image_size),
            "first_mask": mask_to_tensor(arrays.head_mask[self._first[frames]], self.image_size),
        }
        # What both cameras of a sample share (a table's colours, a light): drawn once per batch.
        drawn = (
            [augment.draw(len(frames), generator) for augment in self.augments]
            if generator is not None
            else []
        )
        views = self._feature_views(len(frames), generator)
        for camera in IMAGE_KEYS:
            feature_key = camera.replace("_rgb", "_features")
            if feature_key in self.features:
                rows = np.asarray(self.features[feature_key][self._feature_row[frames]])
                chosen = rows[np.arange(len(frames)), views]  # (B, N, D)
                batch[feature_key] = torch.from_numpy(chosen).float()
                continue
            size = self.wrist_size if camera == "wrist_rgb" else self.image_size
            rgb = rgb_to_tensor(read_frames(getattr(arrays, camera), frames), size)
            if generator is not None and camera in self.augment_cameras and self.augments:
                table_masks = read_frames(getattr(arrays, camera.replace("_rgb", "_table")), frames)
                table_masks = table_masks.astype(bool, copy=False)
                table = mask_to_tensor(table_masks, size)
                plane = (
                    store_camera_coordinates(camera, arrays.state[frames], size)
                    if uses_plane(self.augments)
                    else None
                )
                rgb = apply_augments(self.augments, drawn, rgb, table, generator, plane)
            batch[camera] = rgb
        return batch

    def _feature_views(self, batch: int, generator: torch.Generator | None) -> np.ndarray:
        """int64 (B,) which cached view each sample reads: random with a generator, else view 0."""
        if not self.features:
            return np.zeros(batch, dtype=np.int64)
        count = next(iter(self.features.values())).shape[1]
        if generator is None or count == 1:  # one view draws nothing: the stream stays as it was
            return np.zeros(batch, dtype=np.int64)
        return torch.randint(count, (batch,), generator=generator).numpy()


def batch_positions(
    step: int, batch_size: int, size: int, seed: int, rank: int = 0, world: int = 1
) -> np.ndarray:
    """int64 (batch_size,) dataset positions for one process at one training step.

    The sample stream is an endless sequence of seeded per-epoch permutations; step s of
    process r reads its slice, so any step can be rebuilt without replaying earlier ones.
    """
    if size <= 0:
        raise DatasetError("cannot sample batches from an empty dataset")
    start = (step * world + rank) * batch_size
    flat = np.arange(start, start + batch_size, dtype=np.int64)
    epochs = flat // size
    out = np.empty(batch_size, dtype=np.int64)
    for epoch in np.unique(epochs):
        perm = _epoch_permutation(size, seed, int(epoch))
        hit = epochs == epoch
        out[hit] = perm[flat[hit] % size]
    return out


@functools.lru_cache(maxsize=4)
def _epoch_permutation(size: int, seed: int, epoch: int) -> np.ndarray:
    """The sample order of one epoch (cached: consecutive steps mostly share an epoch)."""
    order = np.random.default_rng([seed, epoch]).permutation(size)
    order.flags.writeable = False
    return order


class StepBatches(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """A map-style dataset whose item i is the whole batch of training step i (for DataLoader workers)."""

    def __init__(
        self, dataset: ChunkDataset, batch_size: int, seed: int, rank: int = 0, world: int = 1
    ) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world = world

    def __len__(self) -> int:
        return 2**62  # endless: the trainer decides how many steps to take

    def __getitem__(self, step: int) -> dict[str, torch.Tensor]:
        positions = batch_positions(
            step, self.batch_size, len(self.dataset), self.seed, self.rank, self.world
        )
        # The jitter of step s depends only on (seed, step, rank): reproducible and resumable.
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + step) * 64 + self.rank)
        return self.dataset.batch(positions, generator)
