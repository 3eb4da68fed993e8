"""`dexagent data` on damaged stores and hostile LeRobot datasets: exit 2, one line naming the file.

Before the fix: a truncated `meta/episode_ends` chunk was a Zstd traceback, a truncated image chunk
a traceback on `--sheet`, a truncated action or image chunk went unnoticed; `info.json` = `[]`,
`fps: "twenty"`, `fps: 0`, binary bytes and deep nesting were tracebacks, a string `features`
was listed as "n, o, n, e", and `data_path` could name a file outside the dataset (`/etc/passwd`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.controller.data import DemoStore

Row = Callable[..., None]
runner = CliRunner()


def _data(*args: str | Path) -> tuple[int, str, float]:
    started = time.perf_counter()
    result = runner.invoke(app, ["data", *map(str, args)])
    seconds = time.perf_counter() - started
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not escaped and "Traceback" not in result.output, (result.exception, result.output)
    return result.exit_code, " ".join(result.output.split()), seconds


def _cut_first_chunk(store: Path, array: str) -> None:
    chunk = sorted(f for f in (store / array).rglob("*") if f.is_file() and f.name != "zarr.json")[0]
    chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])  # a copy cut short


@pytest.mark.parametrize("array", ["meta/episode_ends", "data/action", "data/head_rgb"])
def test_info_names_a_truncated_chunk(
    make_smooth_store: Callable[..., DemoStore], array: str, fault_row: Row
) -> None:
    store = make_smooth_store().path
    _cut_first_chunk(store, array)
    code, output, seconds = _data("info", store)
    assert code == 2, output
    assert f"{store}/{array}: a chunk does not decode" in output and "the store is damaged" in output
    fault_row(f"`data info` on a store with a truncated `{array}` chunk", code, seconds, "none", "none")


def test_a_thumbnail_sheet_of_a_truncated_image_chunk_exits_2(
    make_smooth_store: Callable[..., DemoStore], tmp_path: Path, fault_row: Row
) -> None:
    store = make_smooth_store().path
    _cut_first_chunk(store, "data/head_rgb")
    code, output, seconds = _data("info", store, "--no-verify", "--sheet", tmp_path / "sheet.png")
    assert code == 2 and "data/head_rgb: a chunk does not decode" in output, output
    fault_row("`data info --no-verify --sheet` on a truncated image chunk", code, seconds, "none", "none")


@pytest.fixture(scope="module")
def lerobot_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import _smooth_episode

    folder = tmp_path_factory.mktemp("lerobot")
    store = folder / "demos.zarr"
    with DemoStore.create_or_append(store, image_size=32, control_hz=20.0, joints=13) as writer:
        writer.append_episode(*_smooth_episode(6, 0, 32))
    code, output, _ = _data("export", "--format", "lerobot", store, folder / "dataset")
    assert code == 0, output
    return folder / "dataset"


def _info_with(dataset: Path, tmp_path: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    import shutil

    copy = tmp_path / "dataset"
    shutil.copytree(dataset, copy)
    info_path = copy / "meta" / "info.json"
    info = json.loads(info_path.read_text())
    replaced = change(info)
    if isinstance(replaced, bytes):
        info_path.write_bytes(replaced)
    else:
        info_path.write_text(replaced if isinstance(replaced, str) else json.dumps(info))
    return copy


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda info: info.__setitem__(key, value)


INFOS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "`[]`": (lambda info: "[]", "the top level must be an object"),
    '`fps: "twenty"`': (_set("fps", "twenty"), "fps must be a number of frames per second"),
    "`fps: 0`": (_set("fps", 0), "fps must be a number"),
    "binary bytes": (lambda info: b"\x89PNG\r\n\x1a\n\xff\xfe\x00", "not UTF-8 JSON"),
    "100,000 nested `[`": (lambda info: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    '`features: "none"`': (_set("features", "none"), "features must be an object"),
    "`data_path` pointing at /etc/passwd": (
        _set("data_path", "../../../../../../../../etc/passwd"),
        "data_path '../../../../../../../../etc/passwd' points outside the dataset",
    ),
}


@pytest.mark.parametrize("case", INFOS, ids=list(INFOS))
def test_import_refuses_a_hostile_info_json(
    lerobot_dataset: Path, tmp_path: Path, case: str, fault_row: Row
) -> None:
    change, message = INFOS[case]
    source = _info_with(lerobot_dataset, tmp_path, change)
    code, output, seconds = _data("import", "--format", "lerobot", source, tmp_path / "back.zarr")
    assert code == 2, output
    assert message in output, output
    assert "n, o, n, e" not in output
    assert not (tmp_path / "back.zarr").exists() or DemoStore.open(tmp_path / "back.zarr").num_episodes == 0
    fault_row(f"`data import --format lerobot` with info.json: {case}", code, seconds, "none", "none")
