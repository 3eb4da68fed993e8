"""The episode log: one JSON object per line, flushed as it is written, so an interrupted run leaves a log.

Every line has `event`, `tick`, `t` (sim seconds) and `wall` (seconds since the run
started); the first is `run_start` (the configuration), the last `run_end` (the summary).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
from pydantic import BaseModel

from dexagent.hardware import Box, Observation


def to_json(value: Any) -> Any:
    """Plain JSON values for what skills and planners put in events (numpy, pydantic, Box, paths)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Box):
        return [round(v, 2) for v in value.as_tuple()]
    if isinstance(value, Observation):
        return {"t": value.t, "state": to_json(value.state)}  # images stay out of the log
    if isinstance(value, np.ndarray):
        return value.round(5).tolist() if value.dtype.kind == "f" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


class EpisodeLog:
    """Appends events to a JSONL file (or keeps them in memory only when `path` is None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.events: list[dict[str, Any]] = []
        self.tick = 0
        self.sim_time = 0.0
        self._started = time.perf_counter()
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8")

    def write(self, event: str, fields: Mapping[str, Any] | None = None) -> None:
        """Record one event (thread-safe enough: each line is written with a single call)."""
        record = {
            "event": event,
            "tick": self.tick,
            "t": round(self.sim_time, 3),
            "wall": round(time.perf_counter() - self._started, 3),
            **to_json(dict(fields or {})),
        }
        self.events.append(record)
        if self._file is not None:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_log(path: Path) -> list[dict[str, Any]]:
    """The events of a log file (for tests and tools)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
