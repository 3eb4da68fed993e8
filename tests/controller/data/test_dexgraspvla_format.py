"""The official DexGraspVLA zarr layout: a store written the way the official code's data is laid out
imports into ours, and our export is that layout and comes back bit for bit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import zarr

from dexagent.controller.data import DemoStore, StoreError
from dexagent.controller.data.dexgraspvla_format import export_dexgraspvla, import_dexgraspvla

MakeStore = Callable[..., DemoStore]


def write_official_store(
    path: Path, ends: tuple[int, ...] = (5, 12), size: int = 24
) -> dict[str, np.ndarray]:
    """A store in the official layout, as their README describes it (zarr 2, mask 0/1 in channel 4)."""
    rng = np.random.default_rng(0)
    frames = ends[-1]
    rgbm = rng.integers(0, 256, (frames, size, size, 4), dtype=np.uint8)
    rgbm[..., 3] = 0
    rgbm[:, 6:10, 8:14, 3] = 1  # the target
    arrays = {
        "action": rng.normal(size=(frames, 13)).astype(np.float32),
        "right_state": rng.normal(size=(frames, 13)).astype(np.float32),
        "rgbm": rgbm,
        "right_cam_img": rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8),
    }
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    for name, value in arrays.items():
        root.create_array(f"data/{name}", data=value)
    root.create_array("meta/episode_ends", data=np.asarray(ends, np.int64))
    return arrays


def test_import_of_an_official_store(tmp_path: Path) -> None:
    official = write_official_store(tmp_path / "official.zarr")
    summary = import_dexgraspvla(tmp_path / "official.zarr", tmp_path / "ours.zarr")
    assert (summary.episodes, summary.frames, summary.image_size) == (2, 12, 24)
    assert set(summary.missing_optional) == {"head_table", "wrist_table"}

    store = DemoStore.open(tmp_path / "ours.zarr")
    np.testing.assert_array_equal(store.episode_ends, [5, 12])
    second = store.episode(1)
    np.testing.assert_array_equal(second.action, official["action"][5:])
    np.testing.assert_array_equal(second.state, official["right_state"][5:])
    np.testing.assert_array_equal(second.head_rgb, official["rgbm"][5:, ..., :3])
    np.testing.assert_array_equal(second.head_mask, official["rgbm"][5:, ..., 3] > 0)
    np.testing.assert_array_equal(second.wrist_rgb, official["right_cam_img"][5:])
    assert not second.head_table.any()
    metadata = store.episode_metadata(1)
    assert metadata.target_box == (8.0, 6.0, 14.0, 10.0)  # from the first frame's mask
    assert metadata.split == "imported" and metadata.steps == 7


def test_export_is_the_official_layout_and_round_trips(make_smooth_store: MakeStore, tmp_path: Path) -> None:
    store = make_smooth_store()
    export_dexgraspvla(store, tmp_path / "official.zarr")
    assert (tmp_path / "official.zarr/.zgroup").is_file()  # zarr format 2, readable by the official zarr 2

    root = zarr.open_group(str(tmp_path / "official.zarr"), mode="r")
    assert root["data/rgbm"].shape == (22, 32, 32, 4) and root["data/rgbm"].dtype == np.uint8
    assert set(np.unique(root["data/rgbm"][..., 3])) == {0, 1}
    assert root["data/right_state"].shape == (22, 13)
    np.testing.assert_array_equal(root["meta/episode_ends"][:], [6, 15, 22])

    import_dexgraspvla(tmp_path / "official.zarr", tmp_path / "back.zarr")
    back = DemoStore.open(tmp_path / "back.zarr")
    for index in range(store.num_episodes):
        original, loaded = store.episode(index), back.episode(index)
        for key in ("action", "state", "head_rgb", "head_mask", "wrist_rgb", "head_table", "wrist_table"):
            np.testing.assert_array_equal(getattr(loaded, key), getattr(original, key), err_msg=key)
        assert back.episode_metadata(index) == store.episode_metadata(index)


def test_import_resizes_non_square_images_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "wide.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    root.create_array("data/action", data=np.zeros((3, 13), np.float32))
    root.create_array("data/right_state", data=np.zeros((3, 13), np.float32))
    root.create_array("data/rgbm", data=np.zeros((3, 24, 32, 4), np.uint8))
    root.create_array("data/right_cam_img", data=np.zeros((3, 24, 32, 3), np.uint8))
    root.create_array("meta/episode_ends", data=np.array([3], np.int64))
    with pytest.raises(StoreError, match="square images.*24x32.*--image-size"):
        import_dexgraspvla(path, tmp_path / "a.zarr")
    import_dexgraspvla(path, tmp_path / "b.zarr", image_size=16)
    assert DemoStore.open(tmp_path / "b.zarr").episode(0).head_rgb.shape == (3, 16, 16, 3)


def test_clear_errors_name_the_array(tmp_path: Path) -> None:
    write_official_store(tmp_path / "official.zarr")
    root = zarr.open_group(str(tmp_path / "official.zarr"), mode="r+")
    del root["data/right_cam_img"]
    with pytest.raises(StoreError, match="data/right_cam_img is missing"):
        import_dexgraspvla(tmp_path / "official.zarr", tmp_path / "x.zarr")

    write_official_store(tmp_path / "bad_ends.zarr", ends=(5, 12))
    root = zarr.open_group(str(tmp_path / "bad_ends.zarr"), mode="r+")
    root["meta/episode_ends"][:] = [5, 11]
    with pytest.raises(StoreError, match="episode_ends must increase strictly and end at the 12 frames"):
        import_dexgraspvla(tmp_path / "bad_ends.zarr", tmp_path / "x.zarr")
    assert not (tmp_path / "x.zarr").exists()
