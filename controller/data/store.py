"""The demonstration store: zarr 3 in the DexGraspVLA / diffusion-policy replay-buffer layout.

```
PATH/                         attrs: format, format_version, image_size, wrist_size, control_hz,
                                     committed_episodes
  data/action     (K, J)      float32  joint targets actually sent (after the safety layer)
  data/state      (K, J)      float32  proprioception observed before the action
                                       (J: the recording robot's joints, 13 on the sim)
  data/head_rgb   (K, S, S, 3) uint8   S = image_size
  data/head_mask  (K, S, S)   bool     the target's ground-truth mask in the head image
  data/wrist_rgb  (K, W, W, 3) uint8   W = wrist_size
  data/head_table (K, S, S)   bool     the table top's pixels in the head image (for re-texturing)
  data/wrist_table (K, W, W)  bool     the table top's pixels in the wrist image
  data/label_chunk (K, 16, J) float32  the action chunk to learn at each frame: the episode's next
                                       16 actions for demos; for on-policy episodes the expert's
                                       continuation from the state the student left
  meta/episode_ends (E,)      int64    exclusive end frame of each episode
  meta/<field>    (E, ...)             one row of `EpisodeMetadata` per episode
```

Each camera has its own size, the size its encoder reads (a frozen DINOv2 head at 224 px, a
trainable wrist CNN at 96). A store written before `wrist_size` was recorded has one size for
both: its wrist_size is its image_size.

Crash safety: an episode's frames are written first, then its metadata and its
end, and only then is it committed by bumping the root attribute
`committed_episodes` (one atomic file replace). Anything past the committed
episodes is an interrupted write: readers ignore it and the next writer
truncates it, so a store killed at any point holds only whole episodes. Creation
commits the same way: the root attributes are written last, and a store killed before
them (empty arrays, no attributes) is created again by the next writer.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr

FORMAT = "dexagent-demos"
FORMAT_VERSION = 2
# What each earlier format lacks, for the error that meets a store written by an older dexagent.
_ADDED_IN = {2: "the table masks data/head_table and data/wrist_table"}
IMAGE_CHUNK_FRAMES = 64  # ~one chunk per 64 frames keeps a 96 px chunk near 1.7 MB raw
LOW_DIM_CHUNK_FRAMES = 4096
# Ticks of the label chunk stored per frame (data/label_chunk): the policy horizon of the sim presets.
LABEL_HORIZON = 16
META_CHUNK_EPISODES = 1024
FRAME_KEYS = ("action", "state", "head_rgb", "head_mask", "wrist_rgb", "head_table", "wrist_table")


class StoreError(RuntimeError):
    """A demonstration store is missing, malformed, locked or incompatible with what was asked."""


@dataclass(frozen=True)
class EpisodeMetadata:
    """What a training run or a person needs to know about one demonstration."""

    seed: int  # scene seed: `dexagent sim show --seed SEED --split SPLIT` shows the scene
    split: str
    skill: str  # grasp | push_then_grasp
    target_name: str
    target_category: str
    target_colour: str
    target_tags: tuple[str, ...]
    instruction: str  # e.g. "grasp the red apple"
    target_box: tuple[float, float, float, float]  # initial (x1, y1, x2, y2) in head-image pixels
    steps: int  # control ticks recorded (frames)
    # Provenance of on-policy episodes (controller/data/on_policy.py); scripted demos keep the defaults.
    round: int = 0  # the collection round: 0 scripted demos, k >= 1 rolled out by round k-1's policy
    policy: str = "scripted"  # the checkpoint that drove, or "scripted"
    beta: float = 1.0  # the probability that the expert drove a segment of ticks
    outcome: str = ""  # "" when the target was grasped, else why the attempt failed


# Column name -> (dtype, shape per episode) for the per-episode metadata arrays under meta/.
_META_COLUMNS: dict[str, tuple[Any, tuple[int, ...]]] = {
    "seed": ("int64", ()),
    "split": (str, ()),
    "skill": (str, ()),
    "target_name": (str, ()),
    "target_category": (str, ()),
    "target_colour": (str, ()),
    "target_tags": (str, ()),  # comma-joined: zarr string arrays hold scalars only
    "instruction": (str, ()),
    "target_box": ("float32", (4,)),
    "steps": ("int64", ()),
}
# Columns added after format 2 was fixed: a store without them reads as scripted demos (these
# defaults), and gets them, filled with the defaults, when it is next opened for appending.
_PROVENANCE_COLUMNS: dict[str, tuple[Any, Any]] = {
    "round": ("int64", 0),
    "policy": (str, "scripted"),
    "beta": ("float32", 1.0),
    "outcome": (str, ""),
}


@dataclass(frozen=True)
class EpisodeFrames:
    """The T recorded ticks of one episode, each an observation and the action taken after it."""

    action: np.ndarray  # float32[T, J]
    state: np.ndarray  # float32[T, J]
    head_rgb: np.ndarray  # uint8[T, S, S, 3]
    head_mask: np.ndarray  # bool[T, S, S]
    wrist_rgb: np.ndarray  # uint8[T, W, W, 3]: the wrist camera may have its own size W
    head_table: np.ndarray  # bool[T, S, S]: table-top pixels of head_rgb (sim ground truth)
    wrist_table: np.ndarray  # bool[T, W, W]: table-top pixels of wrist_rgb
    # float32[T, LABEL_HORIZON, J]: the chunk a policy learns to predict at each tick, where it is
    # not the next actions of the episode itself (on-policy: the expert's continuation from the
    # student's state). None: the episode's own actions from each tick (demos).
    label_chunk: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return int(self.action.shape[0])

    def validate(self, image_size: int, joints: int, wrist_size: int | None = None) -> None:
        """Raise StoreError naming the field when a shape or dtype does not fit the store (wrist
        images `wrist_size` px, None: `image_size`)."""
        t = self.steps
        if t == 0:
            raise StoreError("an episode needs at least one frame")
        for key, (dtype, frame_shape, _) in _frame_layout(image_size, wrist_size, joints).items():
            value, shape = getattr(self, key), (t, *frame_shape)
            if value.shape != shape or value.dtype != dtype:
                raise StoreError(
                    f"episode field {key!r} is {value.dtype}{list(value.shape)}, "
                    f"the store needs {np.dtype(dtype)}{list(shape)}"
                )
        chunk = self.label_chunk
        if chunk is not None and (chunk.shape != (t, LABEL_HORIZON, joints) or chunk.dtype != np.float32):
            raise StoreError(
                f"episode field 'label_chunk' is {chunk.dtype}{list(chunk.shape)}, "
                f"the store needs float32{[t, LABEL_HORIZON, joints]}"
            )


def chunks_from_actions(action: np.ndarray, horizon: int = LABEL_HORIZON) -> np.ndarray:
    """float32[T, horizon, J]: each tick's next `horizon` actions of one episode, the last repeated
    past its end (the robot holds still once the episode is over)."""
    last = len(action) - 1
    ticks = np.minimum(np.arange(len(action))[:, None] + np.arange(horizon)[None, :], last)
    return np.asarray(action, np.float32)[ticks]


def _frame_layout(
    image_size: int, wrist_size: int | None, joints: int
) -> dict[str, tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """Array key -> (dtype, shape of one frame, chunk shape)."""
    s, w = image_size, image_size if wrist_size is None else wrist_size
    return {
        "action": ("float32", (joints,), (LOW_DIM_CHUNK_FRAMES, joints)),
        "state": ("float32", (joints,), (LOW_DIM_CHUNK_FRAMES, joints)),
        "head_rgb": ("uint8", (s, s, 3), (IMAGE_CHUNK_FRAMES, s, s, 3)),
        "head_mask": ("bool", (s, s), (IMAGE_CHUNK_FRAMES, s, s)),
        "wrist_rgb": ("uint8", (w, w, 3), (IMAGE_CHUNK_FRAMES, w, w, 3)),
        "head_table": ("bool", (s, s), (IMAGE_CHUNK_FRAMES, s, s)),
        "wrist_table": ("bool", (w, w), (IMAGE_CHUNK_FRAMES, w, w)),
    }


class DemoStore:
    """Read (and, when opened with `create_or_append`, append to) a store of demonstrations.

    Readers never modify the store; every reader method only sees committed episodes.
    """

    def __init__(self, path: Path, root: zarr.Group, *, writable: bool, lock_fd: int | None = None) -> None:
        self.path = path
        self._root = root
        self.writable = writable
        self._lock_fd = lock_fd
        attrs: dict[str, Any] = dict(root.attrs)
        self.image_size = int(attrs["image_size"])  # the head camera's (and the target mask's)
        self.wrist_size = int(attrs.get("wrist_size", self.image_size))  # the wrist camera's
        # Its arrays say how many joints the recording robot has: (K, J) states and actions.
        self.joints = int(_array(root, "data/action").shape[1])
        self.control_hz = float(attrs["control_hz"])
        self._committed = int(attrs.get("committed_episodes", 0))
        ends = decoded(path, root, "meta/episode_ends", slice(0, self._committed))
        self._ends = np.asarray(ends, dtype=np.int64)

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> DemoStore:
        """Open an existing store read-only."""
        store_path = Path(path)
        root = _open_group(store_path, mode="r")
        _check_layout(store_path, root)
        return cls(store_path, root, writable=False)

    @classmethod
    def create_or_append(
        cls,
        path: str | os.PathLike[str],
        *,
        image_size: int,
        control_hz: float,
        joints: int,
        wrist_size: int | None = None,
    ) -> DemoStore:
        """Open `path` for appending (creating it if absent); drops any interrupted, uncommitted tail.

        `image_size`: the head camera's images; `wrist_size` the wrist camera's (None: `image_size`).
        `joints`: the recording robot's (its spec's), the size of every state and action.

        Holds an exclusive lock on the store until `close`, so two writers cannot interleave.
        """
        store_path = Path(path)
        wrist_size = image_size if wrist_size is None else wrist_size
        if image_size <= 0 or wrist_size <= 0:
            raise StoreError(f"image sizes must be positive, got head {image_size} and wrist {wrist_size}")
        if joints <= 0:
            raise StoreError(f"a robot has at least one joint, got {joints}")
        fresh = not (store_path / "zarr.json").exists()
        if fresh and store_path.exists() and any(store_path.iterdir()):
            raise StoreError(f"{store_path} exists and is not a demonstration store (no zarr.json)")
        try:
            store_path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the store at {store_path}: {error.strerror}") from error
        if not os.access(store_path, os.W_OK):
            raise StoreError(f"cannot write to {store_path}: permission denied")
        lock_fd = _lock(store_path)
        try:
            if fresh:
                root = _create(store_path, (image_size, wrist_size), control_hz, joints)
            else:
                root = _open_group(store_path, mode="r+")
                if _half_created(root):
                    # A creation interrupted before its attributes were written: no episode can be
                    # in it, so it is created again rather than refused forever.
                    _clear(store_path)
                    root = _create(store_path, (image_size, wrist_size), control_hz, joints)
                _check_layout(store_path, root)
                _check_sizes(store_path, root, image_size, wrist_size)
                stored_joints = _array(root, "data/action").shape[1]
                if stored_joints != joints:
                    raise StoreError(
                        f"{store_path} holds states and actions of a {stored_joints}-joint robot; "
                        f"cannot append episodes of a {joints}-joint one (use a new --out path)"
                    )
            _add_provenance_columns(root)
            _add_label_chunks(root)
            store = cls(store_path, root, writable=True, lock_fd=lock_fd)
            store._truncate_uncommitted()
            return store
        except BaseException:
            os.close(lock_fd)
            raise

    def close(self) -> None:
        """Release the writer's lock (safe to call twice)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> DemoStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading -------------------------------------------------------------------------

    @property
    def num_episodes(self) -> int:
        return self._committed

    @property
    def num_frames(self) -> int:
        return int(self._ends[-1]) if self._committed else 0

    @property
    def episode_ends(self) -> np.ndarray:
        """int64[E]: exclusive end frame of each committed episode."""
        return self._ends.copy()

    def episode_slice(self, index: int) -> slice:
        """The frames of episode `index` along the first axis of every data array."""
        if not -self._committed <= index < self._committed:
            raise IndexError(f"episode {index} out of range: the store holds {self._committed} episodes")
        index %= self._committed
        start = int(self._ends[index - 1]) if index > 0 else 0
        return slice(start, int(self._ends[index]))

    def episode_metadata(self, index: int) -> EpisodeMetadata:
        self.episode_slice(index)  # range check
        index %= self._committed
        row = {name: decoded(self.path, self._root, f"meta/{name}", index) for name in _META_COLUMNS}
        for name, (_, default) in _PROVENANCE_COLUMNS.items():
            stored = f"meta/{name}" in self._root
            row[name] = decoded(self.path, self._root, f"meta/{name}", index) if stored else default
        tags = str(row["target_tags"])
        return EpisodeMetadata(
            seed=int(row["seed"]),  # type: ignore[arg-type]
            split=str(row["split"]),
            skill=str(row["skill"]),
            target_name=str(row["target_name"]),
            target_category=str(row["target_category"]),
            target_colour=str(row["target_colour"]),
            target_tags=tuple(tags.split(",")) if tags else (),
            instruction=str(row["instruction"]),
            target_box=tuple(float(v) for v in row["target_box"]),  # type: ignore[arg-type, union-attr]
            steps=int(row["steps"]),  # type: ignore[arg-type]
            round=int(row["round"]),  # type: ignore[arg-type]
            policy=str(row["policy"]),
            beta=float(row["beta"]),  # type: ignore[arg-type]
            outcome=str(row["outcome"]),
        )

    def metadata_column(self, name: str) -> np.ndarray:
        """One metadata field for every committed episode, e.g. `metadata_column("seed")` -> int64[E]."""
        if name in _PROVENANCE_COLUMNS and f"meta/{name}" not in self._root:
            dtype, default = _PROVENANCE_COLUMNS[name]
            return np.full(self._committed, default, dtype=object if dtype is str else dtype)
        if name not in _META_COLUMNS and name not in _PROVENANCE_COLUMNS:
            known = ", ".join([*_META_COLUMNS, *_PROVENANCE_COLUMNS])
            raise KeyError(f"no metadata column {name!r}; the store has {known}")
        return np.asarray(decoded(self.path, self._root, f"meta/{name}", slice(0, self._committed)))

    def episode(self, index: int) -> EpisodeFrames:
        """Load all frames of one episode into memory."""
        frames = self.episode_slice(index)
        return EpisodeFrames(
            **{key: np.asarray(decoded(self.path, self._root, f"data/{key}", frames)) for key in FRAME_KEYS}
        )

    def label_chunks(self) -> np.ndarray:
        """float32[K, LABEL_HORIZON, J]: the chunk to learn at every committed frame (a store written
        before label chunks: each frame's next actions)."""
        frames = self.num_frames
        if "data/label_chunk" in self._root:
            return np.asarray(decoded(self.path, self._root, "data/label_chunk", slice(0, frames)))
        action = decoded(self.path, self._root, "data/action", slice(0, frames))
        return _next_action_chunks(action, self._ends)

    @property
    def zarr_root(self) -> zarr.Group:
        """The store's zarr group (read it; write only through `append_episode`)."""
        return self._root

    @property
    def arrays(self) -> Mapping[str, zarr.Array]:
        """The data arrays by key. Frames at or past `num_frames` are uncommitted; index with episode_ends."""
        return {key: _array(self._root, f"data/{key}") for key in FRAME_KEYS}

    def __getitem__(self, key: str) -> zarr.Array:
        if key not in FRAME_KEYS:
            raise KeyError(f"no data array {key!r}; the store has {', '.join(FRAME_KEYS)}")
        return _array(self._root, f"data/{key}")

    def iter_metadata(self) -> Iterator[EpisodeMetadata]:
        for index in range(self._committed):
            yield self.episode_metadata(index)

    # ---- writing -------------------------------------------------------------------------

    def append_episode(self, frames: EpisodeFrames, metadata: EpisodeMetadata) -> int:
        """Write one whole episode and commit it; returns its index. Frames first, commit last."""
        if not self.writable or self._lock_fd is None:
            raise StoreError(f"{self.path} was opened read-only; use DemoStore.create_or_append")
        frames.validate(self.image_size, self.joints, self.wrist_size)
        if metadata.steps != frames.steps:
            raise StoreError(f"metadata says {metadata.steps} steps but the episode has {frames.steps}")
        start, end, index = self.num_frames, self.num_frames + frames.steps, self._committed
        for key in FRAME_KEYS:
            array = self[key]
            array.resize((end, *array.shape[1:]))
            array[start:end] = getattr(frames, key)
        chunks = _array(self._root, "data/label_chunk")
        chunks.resize((end, *chunks.shape[1:]))
        label = frames.label_chunk
        chunks[start:end] = chunks_from_actions(frames.action) if label is None else label
        row = _metadata_row(metadata)
        for name, value in row.items():
            array = _array(self._root, f"meta/{name}")
            array.resize((index + 1, *array.shape[1:]))
            array[index] = value
        ends = _array(self._root, "meta/episode_ends")
        ends.resize((index + 1,))
        ends[index] = end
        # The commit point: until this attribute changes, the episode does not exist for readers.
        self._root.attrs["committed_episodes"] = index + 1
        self._committed = index + 1
        self._ends = np.append(self._ends, np.int64(end))
        return index

    def _truncate_uncommitted(self) -> None:
        """Cut every array back to the committed episodes (removes an interrupted write's tail)."""
        frames, episodes = self.num_frames, self._committed
        for key in (*FRAME_KEYS, "label_chunk"):
            array = _array(self._root, f"data/{key}")
            if array.shape[0] != frames:
                array.resize((frames, *array.shape[1:]))
        for name in (*_META_COLUMNS, *_PROVENANCE_COLUMNS, "episode_ends"):
            array = _array(self._root, f"meta/{name}")
            if array.shape[0] != episodes:
                array.resize((episodes, *array.shape[1:]))


def _metadata_row(metadata: EpisodeMetadata) -> dict[str, Any]:
    for tag in metadata.target_tags:
        if "," in tag:
            raise StoreError(f"target tag {tag!r} contains a comma, which the store uses as separator")
    return {
        "seed": np.int64(metadata.seed),
        "split": metadata.split,
        "skill": metadata.skill,
        "target_name": metadata.target_name,
        "target_category": metadata.target_category,
        "target_colour": metadata.target_colour,
        "target_tags": ",".join(metadata.target_tags),
        "instruction": metadata.instruction,
        "target_box": np.asarray(metadata.target_box, dtype=np.float32),
        "steps": np.int64(metadata.steps),
        "round": np.int64(metadata.round),
        "policy": metadata.policy,
        "beta": np.float32(metadata.beta),
        "outcome": metadata.outcome,
    }


def decoded(path: Path, root: zarr.Group, name: str, selection: Any) -> Any:
    """`root[name][selection]`; a chunk that does not decode (a file cut short, bytes flipped) is a
    `StoreError` naming the array, not the codec's own error."""
    try:
        return _array(root, name)[selection]
    except (RuntimeError, ValueError, OSError) as error:
        raise StoreError(
            f"{path}/{name}: a chunk does not decode ({type(error).__name__}: {error}); the store is damaged "
            "(a copy cut short?): copy it again or collect those episodes again"
        ) from None


def _array(root: zarr.Group, name: str) -> zarr.Array:
    array = root[name]
    assert isinstance(array, zarr.Array), f"{name} is a group, checked by _check_layout"
    return array


def _open_group(path: Path, mode: str) -> zarr.Group:
    if not (path / "zarr.json").is_file():
        raise StoreError(
            f"{path} is not a demonstration store (no zarr.json); create one with dexagent collect"
        )
    try:
        return zarr.open_group(str(path), mode=mode)  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError) as error:
        raise StoreError(f"cannot open the store at {path}: {error}") from error


def _add_provenance_columns(root: zarr.Group) -> None:
    """Create the provenance columns a store written before them lacks, filled with their defaults."""
    committed = int(dict(root.attrs).get("committed_episodes", 0))  # type: ignore[arg-type]
    for name, (dtype, default) in _PROVENANCE_COLUMNS.items():
        if f"meta/{name}" in root:
            continue
        array = root.create_array(
            f"meta/{name}", shape=(committed,), chunks=(META_CHUNK_EPISODES,), dtype=dtype
        )
        if committed:
            array[:] = np.full(committed, default, dtype=object if dtype is str else dtype)


def _create_label_chunks(root: zarr.Group, joints: int) -> zarr.Array:
    shape, chunks = (0, LABEL_HORIZON, joints), (LOW_DIM_CHUNK_FRAMES // LABEL_HORIZON, LABEL_HORIZON, joints)
    return root.create_array("data/label_chunk", shape=shape, chunks=chunks, dtype="float32")


def _add_label_chunks(root: zarr.Group) -> None:
    """Give a store written before label chunks its data/label_chunk: every committed frame's
    next actions (those stores hold demos and per-tick labels only)."""
    if "data/label_chunk" in root:
        return
    committed = int(dict(root.attrs).get("committed_episodes", 0))  # type: ignore[arg-type]
    ends = np.asarray(_array(root, "meta/episode_ends"))[:committed]
    action = _array(root, "data/action")
    chunks = _next_action_chunks(action[: int(ends[-1]) if len(ends) else 0], ends)
    array = _create_label_chunks(root, int(action.shape[1]))
    array.resize(chunks.shape)
    array[:] = chunks


def _next_action_chunks(action: Any, ends: np.ndarray) -> np.ndarray:
    """float32[K, LABEL_HORIZON, J]: every frame's next actions within its episode (`ends` exclusive)."""
    action = np.asarray(action, np.float32)
    starts = np.concatenate([[0], ends[:-1]]).astype(int)
    pieces = [chunks_from_actions(action[a:b]) for a, b in zip(starts, ends.astype(int), strict=True)]
    return np.concatenate(pieces) if pieces else np.zeros((0, LABEL_HORIZON, action.shape[1]), np.float32)


def _check_sizes(path: Path, root: zarr.Group, image_size: int, wrist_size: int) -> None:
    """Refuse to append episodes whose cameras are not the sizes of the store's."""
    attrs: dict[str, Any] = dict(root.attrs)
    stored = (int(attrs["image_size"]), int(attrs.get("wrist_size", attrs["image_size"])))
    if stored == (image_size, wrist_size):
        return
    if len(set(stored)) == len(set((image_size, wrist_size))) == 1:
        raise StoreError(
            f"{path} holds {stored[0]} px images; cannot append {image_size} px episodes (use "
            f"--image-size {stored[0]} or a new --out path)"
        )
    raise StoreError(
        f"{path} holds {stored[0]} px head and {stored[1]} px wrist images; cannot append "
        f"{image_size} px head and {wrist_size} px wrist episodes (use --image-size {stored[0]} "
        f"--wrist-size {stored[1]} or a new --out path)"
    )


def _create(path: Path, sizes: tuple[int, int], control_hz: float, joints: int) -> zarr.Group:
    """A new store whose head and wrist images are `sizes` px."""
    # Not mode "w": that deletes and recreates the folder, dropping the lock held on it.
    root = zarr.open_group(str(path), mode="a")
    for key, (dtype, frame_shape, chunks) in _frame_layout(sizes[0], sizes[1], joints).items():
        root.create_array(f"data/{key}", shape=(0, *frame_shape), chunks=chunks, dtype=dtype)
    _create_label_chunks(root, joints)
    root.create_array("meta/episode_ends", shape=(0,), chunks=(META_CHUNK_EPISODES,), dtype="int64")
    for name, (dtype, shape) in _META_COLUMNS.items():
        root.create_array(
            f"meta/{name}", shape=(0, *shape), chunks=(META_CHUNK_EPISODES, *shape), dtype=dtype
        )
    # Written last, in one write (attrs.update would write key by key): a store without
    # these attributes was never fully created.
    root.update_attributes(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "image_size": sizes[0],
            "wrist_size": sizes[1],
            "control_hz": control_hz,
            "committed_episodes": 0,
        }
    )
    return root


def _half_created(root: zarr.Group) -> bool:
    """Whether `root` is a store whose creation stopped before its attributes (the commit) were written:
    no attributes at all, and nothing but empty arrays of our layout in it."""
    if dict(root.attrs):
        return False
    meta = (*_META_COLUMNS, *_PROVENANCE_COLUMNS, "episode_ends")
    ours = {f"data/{key}" for key in (*FRAME_KEYS, "label_chunk")} | {f"meta/{n}" for n in meta}
    for name, member in root.members(max_depth=None):
        if isinstance(member, zarr.Array) and (name not in ours or member.shape[0] != 0):
            return False
        if isinstance(member, zarr.Group) and name not in ("data", "meta"):
            return False
    return True


def _clear(path: Path) -> None:
    """Remove what is inside the store folder (the folder itself stays: it carries the writer's lock)."""
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _check_layout(path: Path, root: zarr.Group) -> None:
    attrs: dict[str, Any] = dict(root.attrs)
    if attrs.get("format") != FORMAT:
        raise StoreError(f"{path} is a zarr store but not a dexagent demonstration store (attrs.format)")
    version = attrs.get("format_version")
    if version != FORMAT_VERSION:
        missing = [what for v, what in _ADDED_IN.items() if isinstance(version, int) and version < v]
        hint = f" (it lacks {'; '.join(missing)}: collect its demos again)" if missing else ""
        raise StoreError(f"{path} has format_version {version}; this dexagent reads {FORMAT_VERSION}{hint}")
    committed = int(attrs.get("committed_episodes", 0))
    expected = [f"data/{key}" for key in FRAME_KEYS] + [f"meta/{n}" for n in (*_META_COLUMNS, "episode_ends")]
    for name in expected:
        try:
            array = root[name]
        except KeyError:
            raise StoreError(f"{path} is missing the array {name}") from None
        minimum = committed if name.startswith("meta/") else 0
        if not isinstance(array, zarr.Array) or array.shape[0] < minimum:
            raise StoreError(f"{path}/{name} is shorter than the {committed} committed episodes")
    ends = np.asarray(decoded(path, root, "meta/episode_ends", slice(0, committed)))
    frames = int(ends[-1]) if committed else 0
    if committed and (ends[0] <= 0 or np.any(np.diff(ends) <= 0)):
        raise StoreError(f"{path}/meta/episode_ends is not strictly increasing: the store is corrupt")
    for key in FRAME_KEYS:
        if _array(root, f"data/{key}").shape[0] < frames:
            raise StoreError(f"{path}/data/{key} has fewer frames than meta/episode_ends commits ({frames})")


def _lock(path: Path) -> int:
    """Take an exclusive advisory lock on the store folder; the OS drops it if the process dies."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise StoreError(f"{path} is being written by another process (another dexagent collect?)") from None
    return fd
