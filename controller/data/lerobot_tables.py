"""Parquet tables of a LeRobot dataset: the lazy pyarrow/pandas imports, tasks, episodes, frames."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from dexagent.controller.data.store import StoreError

# Both are dependencies of dexagent, imported only when a dataset is read or written (start-up time).
_BROKEN = "a dependency of dexagent that cannot be imported here"


def require_pyarrow() -> ModuleType:
    """`pyarrow` with its parquet module loaded, or a StoreError saying how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401 - loads pyarrow.parquet as an attribute
    except ImportError:
        raise StoreError(f"LeRobot datasets need pyarrow, {_BROKEN}: pip install 'pyarrow>=15'") from None
    return pyarrow


def _require_pandas() -> ModuleType:
    try:
        import pandas
    except ImportError:
        raise StoreError(f"LeRobot datasets need pandas, {_BROKEN}: pip install 'pandas>=2.1'") from None
    return pandas


def write_tasks(path: Path, tasks: dict[str, int]) -> None:
    """meta/tasks.parquet as LeRobot writes it: a pandas frame indexed by the task text."""
    pandas = _require_pandas()
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pandas.DataFrame({"task_index": list(tasks.values())}, index=list(tasks))
    frame.to_parquet(path)


def read_tasks(path: Path) -> dict[int, str]:
    """task_index -> task text from meta/tasks.parquet (the text is the index, or a `task` column)."""
    pandas = _require_pandas()
    if not path.is_file():
        raise StoreError(f"{path} is missing: a LeRobot v3 dataset lists its tasks there")
    frame = pandas.read_parquet(path)
    if "task_index" not in frame.columns:
        raise StoreError(f"{path} has no task_index column")
    texts = frame["task"] if "task" in frame.columns else frame.index
    return {int(i): str(t) for i, t in zip(frame["task_index"], texts, strict=True)}


def read_table(paths: list[Path], what: str) -> Any:
    """The rows of several parquet files, in file order, as one pyarrow table."""
    pa = require_pyarrow()
    if not paths:
        raise StoreError(f"no parquet files for {what}")
    try:
        return pa.concat_tables([pa.parquet.read_table(path) for path in paths], promote_options="default")
    except (OSError, pa.ArrowInvalid) as error:
        raise StoreError(f"cannot read {what}: {error}") from error
