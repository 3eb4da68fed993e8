"""What a demonstration store holds, for `dexagent data info`: counts, lengths, sizes, splits, skills."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from dexagent.controller.data.store import FRAME_KEYS, DemoStore


@dataclass(frozen=True)
class StoreSummary:
    path: str
    image_size: int  # the head camera's side (and the target mask's), pixels
    wrist_size: int  # the wrist camera's side, pixels
    joints: int  # values per state and per action: the recording robot's joints
    control_hz: float
    episodes: int
    frames: int
    steps_min: int
    steps_mean: float
    steps_max: int
    bytes_on_disk: int
    bytes_per_array: dict[str, tuple[int, int]]  # array -> (stored, raw) bytes of the committed frames
    splits: dict[str, int]
    skills: dict[str, int]
    targets: dict[str, int]  # target category -> episodes
    instructions: int  # distinct instruction texts
    # "round K, POLICY" -> (episodes, of them grasped): where the data came from (on-policy rounds)
    rounds: dict[str, tuple[int, int]]

    @property
    def seconds(self) -> float:
        return self.frames / self.control_hz if self.control_hz else 0.0


def summarise_store(store: DemoStore) -> StoreSummary:
    """Everything `data info` prints about `store` (reads metadata and array headers, not frames)."""
    ends = store.episode_ends
    lengths = np.diff(np.concatenate([[0], ends])) if len(ends) else np.zeros(0, np.int64)
    per_array: dict[str, tuple[int, int]] = {}
    for key in FRAME_KEYS:
        array = store[key]
        rows = max(array.shape[0], 1)
        stored = int(array.nbytes_stored())
        # Stored bytes cover every written frame; scale to the committed ones (equal unless interrupted).
        per_array[key] = (
            stored * store.num_frames // rows,
            int(np.prod(array.shape[1:])) * array.dtype.itemsize * store.num_frames,
        )
    on_disk = sum(f.stat().st_size for f in store.path.rglob("*") if f.is_file())

    def counts(column: str) -> dict[str, int]:
        if not store.num_episodes:
            return {}
        return dict(Counter(str(v) for v in store.metadata_column(column)).most_common())

    instructions = len(set(counts("instruction"))) if store.num_episodes else 0
    rounds: dict[str, tuple[int, int]] = {}
    if store.num_episodes:
        columns = zip(
            store.metadata_column("round"),
            store.metadata_column("policy"),
            store.metadata_column("outcome"),
            strict=True,
        )
        for round_, policy, outcome in columns:
            key = f"round {int(round_)}, {policy}"
            episodes, grasped = rounds.get(key, (0, 0))
            rounds[key] = (episodes + 1, grasped + (str(outcome) == ""))
    return StoreSummary(
        path=str(store.path),
        image_size=store.image_size,
        wrist_size=store.wrist_size,
        joints=store.joints,
        control_hz=store.control_hz,
        episodes=store.num_episodes,
        frames=store.num_frames,
        steps_min=int(lengths.min()) if lengths.size else 0,
        steps_mean=float(lengths.mean()) if lengths.size else 0.0,
        steps_max=int(lengths.max()) if lengths.size else 0,
        bytes_on_disk=on_disk,
        bytes_per_array=per_array,
        splits=counts("split"),
        skills=counts("skill"),
        targets=counts("target_category"),
        instructions=instructions,
        rounds=rounds,
    )
