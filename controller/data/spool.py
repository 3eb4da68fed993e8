"""`EpisodeSpool`: the frames of an episode being recorded, on disk as they come.

A demonstration on the real robot takes minutes of an operator's time; if the process dies
mid-episode nothing may be lost. Every tick is written to its own file (written to a
temporary name, then renamed: a file is whole or absent), and the spool is turned into a
store episode only when the operator keeps it. A spool left by a dead process is found on
the next start and offered for keeping or discarding.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from dexagent.controller.data.store import FRAME_KEYS, EpisodeFrames, StoreError

_META = "episode.json"
_TICK = re.compile(r"frame-\d{6}\.npz")


class EpisodeSpool:
    """One episode's frames, one .npz per tick, under `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ticks = len(self._frame_files())

    @staticmethod
    def leftover(root: Path) -> list[Path]:
        """Spool folders under `root` that a previous process left behind (oldest first)."""
        if not root.is_dir():
            return []
        return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("episode-"))

    def _frame_files(self) -> list[Path]:
        """Whole ticks only: `frame-000123.npz` (a `.tmp.npz` is a write that never finished)."""
        return sorted(p for p in self.folder.glob("frame-*.npz") if _TICK.fullmatch(p.name))

    def write_metadata(self, metadata: dict[str, Any]) -> None:
        temporary = self.folder / (_META + ".tmp")
        temporary.write_text(json.dumps(metadata))
        os.replace(temporary, self.folder / _META)

    def metadata(self) -> dict[str, Any]:
        path = self.folder / _META
        return json.loads(path.read_text()) if path.is_file() else {}

    def append(self, **arrays: np.ndarray) -> None:
        """Write one tick (every key of FRAME_KEYS) durably."""
        missing = set(FRAME_KEYS) - set(arrays)
        if missing:
            raise StoreError(f"a spooled tick needs {sorted(missing)}")
        temporary = self.folder / f"frame-{self.ticks:06d}.tmp.npz"
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.folder / f"frame-{self.ticks:06d}.npz")
        self.ticks += 1

    def frames(self) -> EpisodeFrames:
        """Every whole tick written so far, stacked (a torn last write was never renamed in)."""
        files = self._frame_files()
        if not files:
            raise StoreError(f"the spool {self.folder} holds no frames")
        ticks = []
        for path in files:
            with np.load(path, allow_pickle=False) as data:
                ticks.append({key: data[key] for key in FRAME_KEYS})
        return EpisodeFrames(**{key: np.stack([tick[key] for tick in ticks]) for key in FRAME_KEYS})

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
