"""LeRobot v3 export and import: the on-disk layout LeRobot reads, a lossless-where-it-can round trip,
feature mapping by name and clear errors for datasets that do not fit the store."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dexagent.controller.data import DemoStore, StoreError
from dexagent.controller.data.lerobot_export import export_lerobot
from dexagent.controller.data.lerobot_import import import_lerobot

MakeStore = Callable[..., DemoStore]
IMAGE_MEAN_ERROR = 8.0  # grey levels: AV1 at LeRobot's crf 30 on 32 px frames, measured ~4


def test_export_writes_the_lerobot_v3_layout(make_smooth_store: MakeStore, tmp_path: Path) -> None:
    store = make_smooth_store()
    out = tmp_path / "lerobot"
    summary = export_lerobot(store, out)
    assert (summary.episodes, summary.frames, summary.tasks) == (3, 22, 2)

    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 20
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (3, 22, 2)
    features = info["features"]
    assert features["observation.state"]["shape"] == [13] and len(features["action"]["names"]) == 13
    assert features["observation.images.head"]["dtype"] == "video"
    assert features["observation.images.head"]["info"]["video.fps"] == 20
    assert features["observation.masks.head_target"]["dtype"] == "image"

    frames = pq.read_table(out / "data/chunk-000/file-000.parquet")
    assert frames.num_rows == 22
    assert frames.schema.field("action").type.list_size == 13
    np.testing.assert_array_equal(frames["index"], np.arange(22))
    np.testing.assert_allclose(frames["timestamp"].to_numpy()[:6], np.arange(6) / 20, atol=1e-6)
    # One row group per episode: LeRobot 0.6 makes it a rule of v3 data files (a reader fetches
    # episode i with read_row_group(i)).
    row_groups = pq.ParquetFile(out / "data/chunk-000/file-000.parquet")
    sizes = [row_groups.metadata.row_group(i).num_rows for i in range(row_groups.metadata.num_row_groups)]
    assert sizes == [6, 9, 7]

    tasks = pd.read_parquet(out / "meta/tasks.parquet")  # LeRobot reads the task text from the index
    assert list(tasks.index) == ["grasp the red apple", "grasp the red ball"]
    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["length"] for e in episodes] == [6, 9, 7]
    assert [e["dataset_from_index"] for e in episodes] == [0, 6, 15]
    head = "videos/observation.images.head"
    assert [e[f"{head}/from_timestamp"] for e in episodes] == pytest.approx([0.0, 0.3, 0.75])
    assert episodes[1]["tasks"] == ["grasp the red ball"]
    assert episodes[2]["dexagent/split"] == "seen"

    with av.open(str(out / head / "chunk-000/file-000.mp4")) as container:
        decoded = [float(f.pts * f.time_base) for f in container.decode(video=0)]
    assert decoded == pytest.approx(np.arange(22) / 20, abs=1e-6)

    stats = json.loads((out / "meta/stats.json").read_text())
    assert stats["action"]["count"] == [22]
    assert np.asarray(stats["observation.images.head"]["mean"]).shape == (3, 1, 1)
    all_actions = np.concatenate([store.episode(i).action for i in range(3)])
    np.testing.assert_allclose(stats["action"]["mean"], all_actions.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(stats["action"]["std"], all_actions.std(axis=0), atol=1e-5)


def test_round_trip_keeps_arrays_and_metadata(make_smooth_store: MakeStore, tmp_path: Path) -> None:
    store = make_smooth_store()
    export_lerobot(store, tmp_path / "lerobot")
    summary = import_lerobot(tmp_path / "lerobot", tmp_path / "back.zarr")
    assert (summary.episodes, summary.frames, summary.missing_optional) == (3, 22, ())

    back = DemoStore.open(tmp_path / "back.zarr")
    assert back.image_size == store.image_size and back.control_hz == 20.0
    np.testing.assert_array_equal(back.episode_ends, store.episode_ends)
    for index in range(store.num_episodes):
        original, loaded = store.episode(index), back.episode(index)
        for key in ("action", "state", "head_mask", "head_table", "wrist_table"):  # exact: raw or PNG
            np.testing.assert_array_equal(getattr(loaded, key), getattr(original, key), err_msg=key)
        for key in ("head_rgb", "wrist_rgb"):  # lossy video
            error = np.abs(getattr(loaded, key).astype(int) - getattr(original, key).astype(int))
            assert error.mean() < IMAGE_MEAN_ERROR, f"{key} episode {index}: mean error {error.mean():.1f}"
        assert back.episode_metadata(index) == store.episode_metadata(index)


def test_import_maps_renamed_features_and_fills_missing_table_masks(
    make_smooth_store: MakeStore, tmp_path: Path
) -> None:
    out = tmp_path / "lerobot"
    export_lerobot(make_smooth_store(), out, table_masks=False)
    # A dataset recorded elsewhere calls the mask something else.
    info_path = out / "meta/info.json"
    info = json.loads(info_path.read_text())
    info["features"]["observation.images.target_mask"] = info["features"].pop("observation.masks.head_target")
    info_path.write_text(json.dumps(info))
    data_path = out / "data/chunk-000/file-000.parquet"
    table = pq.read_table(data_path)
    renamed = [
        "observation.images.target_mask" if n == "observation.masks.head_target" else n
        for n in table.column_names
    ]
    pq.write_table(table.rename_columns(renamed), data_path)

    with pytest.raises(
        StoreError,
        match=r"no feature 'observation.masks.head_target' for head_mask.*--feature head_mask=NAME",
    ):
        import_lerobot(out, tmp_path / "a.zarr")
    summary = import_lerobot(
        out, tmp_path / "b.zarr", feature_names={"head_mask": "observation.images.target_mask"}
    )
    assert set(summary.missing_optional) == {"head_table", "wrist_table"}
    back = DemoStore.open(tmp_path / "b.zarr")
    assert back.episode(0).head_mask.any() and not back.episode(0).head_table.any()


def test_import_resizes_when_asked(make_smooth_store: MakeStore, tmp_path: Path) -> None:
    export_lerobot(make_smooth_store(), tmp_path / "lerobot")
    import_lerobot(tmp_path / "lerobot", tmp_path / "small.zarr", image_size=16)
    small = DemoStore.open(tmp_path / "small.zarr")
    assert small.image_size == 16 and small.episode(1).head_rgb.shape == (9, 16, 16, 3)
    assert small.episode(1).head_mask.any()


def test_clear_errors_for_datasets_that_do_not_fit(make_smooth_store: MakeStore, tmp_path: Path) -> None:
    store = make_smooth_store()
    out = tmp_path / "lerobot"
    export_lerobot(store, out)
    with pytest.raises(StoreError, match="already exists"):
        export_lerobot(store, out)
    with pytest.raises(StoreError, match="not a LeRobot dataset"):
        import_lerobot(tmp_path, tmp_path / "x.zarr")

    old = tmp_path / "old"
    shutil.copytree(out, old)
    info = json.loads((old / "meta/info.json").read_text())
    (old / "meta/info.json").write_text(json.dumps({**info, "codebase_version": "v2.1"}))
    with pytest.raises(StoreError, match="v2.1.*convert"):
        import_lerobot(old, tmp_path / "x.zarr")

    info["features"]["action"]["shape"] = [13, 2]
    (old / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(StoreError, match=r"'action' \(action\) has shape \[13, 2\]; the store needs \[J\]"):
        import_lerobot(old, tmp_path / "x.zarr")
    info["features"]["action"]["shape"] = [7]  # any number of joints, but states and actions alike
    (old / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(StoreError, match=r"'observation.state' has shape \[13\], 'action' \[7\]"):
        import_lerobot(old, tmp_path / "x.zarr")
    assert not (tmp_path / "x.zarr").exists()  # nothing written for a dataset that does not fit


def test_image_paths_stay_inside_the_dataset_and_episode_columns_are_checked(
    make_smooth_store: MakeStore, tmp_path: Path
) -> None:
    out = tmp_path / "lerobot"
    export_lerobot(make_smooth_store(), out, table_masks=False)
    data_path = out / "data/chunk-000/file-000.parquet"
    table = pq.read_table(data_path)
    column = table.column_names.index("observation.masks.head_target")
    escaping = [{"bytes": None, "path": "../../../etc/passwd"}] * table.num_rows
    pq.write_table(
        table.set_column(
            column, "observation.masks.head_target", pa.array(escaping, table.schema.field(column).type)
        ),
        data_path,
    )
    with pytest.raises(StoreError, match="'../../../etc/passwd' is not a file inside"):
        import_lerobot(out, tmp_path / "a.zarr")
    assert not (tmp_path / "a.zarr").exists()  # a store the failed import created is removed

    episodes_path = out / "meta/episodes/chunk-000/file-000.parquet"
    pq.write_table(pq.read_table(episodes_path).drop_columns(["data/file_index"]), episodes_path)
    with pytest.raises(StoreError, match="meta/episodes lacks the column.s. data/file_index"):
        import_lerobot(out, tmp_path / "b.zarr")
