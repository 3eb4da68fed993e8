"""The demonstration store: layout, round trip, appending, crash safety, clear errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import zarr

from dexagent.controller.data import DemoStore, EpisodeFrames, EpisodeMetadata, StoreError
from dexagent.controller.data.store import LABEL_HORIZON, chunks_from_actions

SIZE = 16


def make_episode(
    steps: int, seed: int, size: int = SIZE, wrist: int | None = None
) -> tuple[EpisodeFrames, EpisodeMetadata]:
    rng = np.random.default_rng(seed)
    wrist = size if wrist is None else wrist
    frames = EpisodeFrames(
        action=rng.normal(size=(steps, 13)).astype(np.float32),
        state=rng.normal(size=(steps, 13)).astype(np.float32),
        head_rgb=rng.integers(0, 256, size=(steps, size, size, 3), dtype=np.uint8),
        head_mask=rng.random((steps, size, size)) > 0.5,
        wrist_rgb=rng.integers(0, 256, size=(steps, wrist, wrist, 3), dtype=np.uint8),
        head_table=rng.random((steps, size, size)) > 0.3,
        wrist_table=rng.random((steps, wrist, wrist)) > 0.6,
    )
    metadata = EpisodeMetadata(
        seed=seed,
        split="seen",
        skill="grasp",
        target_name="red_apple",
        target_category="fruit",
        target_colour="red",
        target_tags=("fruit", "red", "food"),
        instruction="grasp the red apple",
        target_box=(1.0, 2.0, 5.5, 7.0),
        steps=steps,
    )
    return frames, metadata


def test_round_trip_keeps_frames_metadata_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "demos.zarr"
    episodes = [make_episode(steps, seed) for seed, steps in enumerate((5, 3, 7))]
    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        for frames, metadata in episodes:
            store.append_episode(frames, metadata)

    store = DemoStore.open(path)
    assert store.num_episodes == 3 and store.num_frames == 15
    np.testing.assert_array_equal(store.episode_ends, [5, 8, 15])
    assert store.episode_slice(1) == slice(5, 8)
    assert store.episode_slice(-1) == slice(8, 15)
    assert store["head_rgb"].shape == (15, SIZE, SIZE, 3)
    assert store["head_mask"].dtype == np.bool_
    for index, (frames, metadata) in enumerate(episodes):
        loaded = store.episode(index)
        for key in ("action", "state", "head_rgb", "head_mask", "wrist_rgb", "head_table", "wrist_table"):
            np.testing.assert_array_equal(getattr(loaded, key), getattr(frames, key))
        assert store.episode_metadata(index) == metadata
    # The plain zarr layout is what diffusion-policy style readers expect.
    root = zarr.open_group(str(path), mode="r")
    assert root["data/action"].shape == (15, 13) and root["meta/episode_ends"].dtype == np.int64
    assert root.attrs["image_size"] == SIZE and root.attrs["control_hz"] == 20.0


def test_images_are_chunked_by_frames(tmp_path: Path) -> None:
    with DemoStore.create_or_append(
        tmp_path / "d.zarr", image_size=SIZE, control_hz=20.0, joints=13
    ) as store:
        assert store["head_rgb"].chunks == (64, SIZE, SIZE, 3)
        assert store["head_mask"].chunks == (64, SIZE, SIZE)


def test_appending_to_an_existing_store_continues_it(tmp_path: Path) -> None:
    path = tmp_path / "demos.zarr"
    for seed in range(2):
        with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
            store.append_episode(*make_episode(4, seed))
    store = DemoStore.open(path)
    assert store.num_episodes == 2
    assert [m.seed for m in store.iter_metadata()] == [0, 1]


def test_appending_with_another_image_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "demos.zarr"
    DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13).close()
    with pytest.raises(StoreError, match="16 px images; cannot append 32 px"):
        DemoStore.create_or_append(path, image_size=32, control_hz=20.0, joints=13)


def test_each_camera_keeps_its_own_size(tmp_path: Path) -> None:
    path = tmp_path / "demos.zarr"
    frames, metadata = make_episode(4, 0, size=SIZE, wrist=8)
    with DemoStore.create_or_append(path, image_size=SIZE, wrist_size=8, control_hz=20.0, joints=13) as store:
        store.append_episode(frames, metadata)
        with pytest.raises(StoreError, match="'wrist_rgb' is uint8\\[4, 16, 16, 3\\], the store needs"):
            store.append_episode(*make_episode(4, 1))  # a one-size episode does not fit
    store = DemoStore.open(path)
    assert (store.image_size, store.wrist_size) == (SIZE, 8)
    assert store["wrist_rgb"].shape == (4, 8, 8, 3) and store["wrist_table"].shape == (4, 8, 8)
    assert store["head_rgb"].shape == (4, SIZE, SIZE, 3) and store["head_mask"].shape == (4, SIZE, SIZE)
    np.testing.assert_array_equal(store.episode(0).wrist_rgb, frames.wrist_rgb)
    root = zarr.open_group(str(path), mode="r")
    assert (root.attrs["image_size"], root.attrs["wrist_size"]) == (SIZE, 8)
    with pytest.raises(StoreError, match="16 px head and 8 px wrist images; cannot append 16 px head and 16"):
        DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13)


def test_a_store_from_before_wrist_sizes_has_one_size_for_both_cameras(tmp_path: Path) -> None:
    path = tmp_path / "demos.zarr"
    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        store.append_episode(*make_episode(3, 0))
    root = zarr.open_group(str(path), mode="r+")
    del root.attrs["wrist_size"]  # as a store written before the wrist had a size of its own
    assert DemoStore.open(path).wrist_size == SIZE
    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        store.append_episode(*make_episode(2, 1))  # appending to it goes on as before
    assert DemoStore.open(path).num_episodes == 2


def test_an_interrupted_append_is_invisible_then_truncated(tmp_path: Path) -> None:
    path = tmp_path / "demos.zarr"
    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        store.append_episode(*make_episode(5, 0))
        # Simulate a kill between writing frames and the commit of a second episode.
        root = zarr.open_group(str(path), mode="r+")
        for key in ("action", "state", "head_rgb", "head_mask", "wrist_rgb"):
            array = root[f"data/{key}"]
            array.resize((9, *array.shape[1:]))
        root["meta/episode_ends"].resize((2,))
        root["meta/episode_ends"][1] = 9

    reader = DemoStore.open(path)
    assert reader.num_episodes == 1 and reader.num_frames == 5
    assert reader["action"].shape[0] == 9  # readers never modify the store

    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        assert store["action"].shape[0] == 5 and store.num_episodes == 1
        store.append_episode(*make_episode(3, 1))
    reader = DemoStore.open(path)
    np.testing.assert_array_equal(reader.episode_ends, [5, 8])
    assert reader.episode_metadata(1).seed == 1


def test_a_second_writer_is_refused_while_the_first_holds_the_store(tmp_path: Path) -> None:
    path = tmp_path / "demos.zarr"
    with (
        DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13),
        pytest.raises(StoreError, match="being written by another process"),
    ):
        DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13)
    DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13).close()  # lock released


def test_a_misshapen_episode_names_the_field(tmp_path: Path) -> None:
    frames, metadata = make_episode(4, 0, size=8)
    with (
        DemoStore.create_or_append(tmp_path / "d.zarr", image_size=SIZE, control_hz=20.0, joints=13) as store,
        pytest.raises(StoreError, match="'head_rgb' is uint8\\[4, 8, 8, 3\\]"),
    ):
        store.append_episode(frames, metadata)


def test_reading_a_folder_that_is_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a demonstration store"):
        DemoStore.open(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(StoreError, match="exists and is not a demonstration store"):
        DemoStore.create_or_append(tmp_path, image_size=SIZE, control_hz=20.0, joints=13)
    other = zarr.open_group(str(tmp_path / "other.zarr"), mode="w")
    other.attrs["format"] = "something-else"
    with pytest.raises(StoreError, match="not a dexagent demonstration store"):
        DemoStore.open(tmp_path / "other.zarr")


def test_a_store_of_an_older_format_says_what_it_lacks(tmp_path: Path) -> None:
    path = tmp_path / "old.zarr"
    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        store.append_episode(*make_episode(2, 0))
    root = zarr.open_group(str(path), mode="r+")
    root.attrs["format_version"] = 1  # as dexagent wrote stores before the table masks
    with pytest.raises(StoreError, match="format_version 1; this dexagent reads 2 .it lacks the table masks"):
        DemoStore.open(path)


def test_an_episode_index_out_of_range_says_how_many_there_are(tmp_path: Path) -> None:
    with DemoStore.create_or_append(
        tmp_path / "d.zarr", image_size=SIZE, control_hz=20.0, joints=13
    ) as store:
        store.append_episode(*make_episode(2, 0))
        with pytest.raises(IndexError, match="holds 1 episodes"):
            store.episode_slice(1)


class _Killed(BaseException):
    """Stands in for a kill: nothing after the point where it is raised runs."""


@pytest.mark.parametrize("arrays_made", [0, 3, None], ids=["no arrays", "some arrays", "every array"])
def test_a_store_whose_creation_was_interrupted_is_created_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arrays_made: int | None
) -> None:
    path = tmp_path / "demos.zarr"
    made = 0
    real_create_array = zarr.Group.create_array

    def create_array(self: zarr.Group, *args: object, **kwargs: object) -> zarr.Array:
        nonlocal made
        if arrays_made is not None and made == arrays_made:
            raise _Killed
        made += 1
        return real_create_array(self, *args, **kwargs)  # type: ignore[arg-type]

    def update_attributes(self: zarr.Group, *args: object, **kwargs: object) -> None:
        raise _Killed  # killed before the attributes, creation's commit, were written

    with monkeypatch.context() as patch:
        patch.setattr(zarr.Group, "create_array", create_array)
        patch.setattr(zarr.Group, "update_attributes", update_attributes)
        with pytest.raises(_Killed):
            DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13)
    assert (path / "zarr.json").is_file()  # what a kill leaves behind

    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        store.append_episode(*make_episode(4, 0))
    reader = DemoStore.open(path)
    assert reader.num_episodes == 1 and reader.num_frames == 4


def test_a_store_with_episodes_is_never_taken_for_a_half_created_one(tmp_path: Path) -> None:
    path = tmp_path / "demos.zarr"
    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        store.append_episode(*make_episode(4, 0))
    root = zarr.open_group(str(path), mode="r+")
    root.attrs.clear()  # a damaged store with data in it: refused, never wiped
    with pytest.raises(StoreError, match="not a dexagent demonstration store"):
        DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13)
    assert zarr.open_group(str(path), mode="r")["data/action"].shape[0] == 4


def test_label_chunks_are_the_stored_ones_or_each_frames_next_actions(tmp_path: Path) -> None:
    path = tmp_path / "demos.zarr"
    demo, demo_meta = make_episode(5, 0)
    rolled, rolled_meta = make_episode(3, 1)
    chunk = np.random.default_rng(2).normal(size=(3, LABEL_HORIZON, 13)).astype(np.float32)
    rolled = dataclasses.replace(rolled, label_chunk=chunk)
    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        store.append_episode(demo, demo_meta)
        store.append_episode(rolled, rolled_meta)
    chunks = DemoStore.open(path).label_chunks()
    assert chunks.shape == (8, LABEL_HORIZON, 13)
    np.testing.assert_array_equal(chunks[5:], chunk)
    # A demo's chunk at its frame 3 of 5: frames 3, 4, then frame 4 held.
    np.testing.assert_array_equal(chunks[3, :3], demo.action[[3, 4, 4]])
    np.testing.assert_array_equal(chunks[3, 3:], np.repeat(demo.action[4:], LABEL_HORIZON - 3, axis=0))
    with pytest.raises(StoreError, match="label_chunk"):
        DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13).append_episode(
            dataclasses.replace(rolled, label_chunk=chunk[:, :4]), rolled_meta
        )


def test_a_store_from_before_label_chunks_reads_next_actions_and_gets_them_on_append(tmp_path: Path) -> None:
    path = tmp_path / "demos.zarr"
    first, meta = make_episode(4, 0)
    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        store.append_episode(first, meta)
    del zarr.open_group(str(path), mode="r+")["data/label_chunk"]  # as written before label chunks
    expected = chunks_from_actions(first.action)
    np.testing.assert_array_equal(DemoStore.open(path).label_chunks(), expected)
    with DemoStore.create_or_append(path, image_size=SIZE, control_hz=20.0, joints=13) as store:
        store.append_episode(*make_episode(2, 1))
    stored = zarr.open_group(str(path), mode="r")["data/label_chunk"]
    assert stored.shape == (6, LABEL_HORIZON, 13)
    np.testing.assert_array_equal(stored[:4], expected)
