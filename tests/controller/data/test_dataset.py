"""The training dataset: chunk shapes, padding at episode ends, the episode split, jitter, determinism."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

from dexagent.controller.data.augment import ColorJitter, RandomConv, Relight, TableRetexture
from dexagent.controller.data.dataset import (
    ChunkDataset,
    DatasetError,
    StepBatches,
    batch_positions,
    chunk_target_range,
    load_demo_arrays,
    read_frames,
    split_episodes,
)
from dexagent.controller.data.store import LABEL_HORIZON, DemoStore, EpisodeFrames, EpisodeMetadata

LENGTHS = [5, 3, 7, 4]


def _store(
    path: Path, lengths: list[int] = LENGTHS, image_size: int = 8, rolled_out: int | None = None
) -> Path:
    """Frame k of the store has state[:, 0] == action[:, 0] == k and mask pixel (0, 0) set iff k is even.

    `rolled_out`: that episode is on-policy, its label chunk at frame k is -k at every offset."""
    rng = np.random.default_rng(0)
    with DemoStore.create_or_append(path, image_size=image_size, control_hz=20.0, joints=13) as store:
        frame = 0
        for steps in lengths:
            index = np.arange(frame, frame + steps, dtype=np.float32)
            low = np.repeat(index[:, None], 13, axis=1)
            mask = np.zeros((steps, image_size, image_size), dtype=bool)
            mask[:, :2, :2] = (index % 2 == 0)[:, None, None]
            frames = EpisodeFrames(
                action=low.copy(), state=low.copy(), head_mask=mask,
                head_rgb=rng.integers(0, 255, (steps, image_size, image_size, 3), dtype=np.uint8),
                wrist_rgb=rng.integers(0, 255, (steps, image_size, image_size, 3), dtype=np.uint8),
                head_table=~mask, wrist_table=np.zeros_like(mask),
            )  # fmt: skip
            metadata = EpisodeMetadata(
                0, "seen", "grasp", "cube", "toy", "red", (), "grasp the cube", (0, 0, 2, 2), steps
            )
            if rolled_out == len(store.episode_ends):
                chunk = np.repeat(-low[:, None], LABEL_HORIZON, axis=1)
                frames = dataclasses.replace(frames, label_chunk=chunk)
                metadata = dataclasses.replace(metadata, round=1, policy="runs/student@sha256:0", beta=0.0)
            store.append_episode(frames, metadata)
            frame += steps
    return path


def test_every_timestep_is_a_sample_with_the_contract_shapes(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    dataset = ChunkDataset(arrays, np.arange(4), horizon=6, image_size=8)
    assert len(dataset) == sum(LENGTHS)
    batch = dataset.batch(np.arange(5))
    assert batch["head_rgb"].shape == (5, 3, 8, 8) and batch["head_rgb"].dtype == torch.float32
    assert batch["wrist_rgb"].shape == (5, 3, 8, 8)
    assert batch["head_mask"].shape == (5, 1, 8, 8) and batch["first_mask"].shape == (5, 1, 8, 8)
    assert batch["state"].shape == (5, 13) and batch["action"].shape == (5, 6, 13)
    assert float(batch["head_rgb"].min()) >= 0.0 and float(batch["head_rgb"].max()) <= 1.0


def test_chunks_repeat_the_last_action_past_the_episode_end(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    dataset = ChunkDataset(arrays, np.arange(4), horizon=4, image_size=8)
    # Episode 1 holds frames 5, 6, 7; a chunk from frame 6 is 6, 7, 7, 7.
    batch = dataset.batch(np.array([6]))
    assert batch["action"][0, :, 0].tolist() == [6.0, 7.0, 7.0, 7.0]
    assert batch["state"][0, 0].item() == 6.0
    # A chunk well inside episode 2 (frames 8..14) is not padded.
    assert dataset.batch(np.array([8]))["action"][0, :, 0].tolist() == [8.0, 9.0, 10.0, 11.0]


def test_on_policy_episodes_teach_their_stored_label_chunks(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr", rolled_out=1))
    dataset = ChunkDataset(arrays, np.arange(4), horizon=4, image_size=8)
    # Episode 1 (frames 5-7) was rolled out: the expert's chunk, not the next labels.
    assert dataset.batch(np.array([6]))["action"][0, :, 0].tolist() == [-6.0] * 4
    # The demos around it keep their next actions.
    assert dataset.batch(np.array([3]))["action"][0, :, 0].tolist() == [3.0, 4.0, 4.0, 4.0]
    low, _ = chunk_target_range(arrays, np.arange(sum(LENGTHS)), horizon=4, relative=False)
    assert low[0] == -7.0  # the normaliser's range covers what is learned
    with pytest.raises(DatasetError, match="label chunks of 16 ticks"):
        ChunkDataset(arrays, np.arange(4), horizon=LABEL_HORIZON + 1, image_size=8).batch(np.array([0]))


def test_chunk_target_range_covers_every_chunk_of_the_frames(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    frames = np.arange(sum(LENGTHS))
    dataset = ChunkDataset(arrays, np.arange(4), horizon=4, image_size=8)
    chunks = dataset.batch(frames)
    relative = chunks["action"] - chunks["state"][:, None]  # what a delta policy learns
    low, high = chunk_target_range(arrays, frames, horizon=4, relative=True)
    np.testing.assert_array_equal(low, relative.amin((0, 1)).numpy())
    np.testing.assert_array_equal(high, relative.amax((0, 1)).numpy())
    assert low[0] == 0.0 and high[0] == 3.0  # frame k's chunk reaches k+3 inside the longest episodes
    low, high = chunk_target_range(arrays, frames, horizon=4, relative=False)
    assert low[0] == 0.0 and high[0] == sum(LENGTHS) - 1


def test_per_offset_quantile_ranges_follow_each_chunk_offset(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    frames = np.arange(sum(LENGTHS))
    low, high = chunk_target_range(arrays, frames, horizon=4, relative=True, per_offset=True)
    assert low.shape == high.shape == (4, 13)
    # Offset k of frame f's chunk is min(f + k, last) - f: 0 at offset 0, up to k further on.
    assert low[:, 0].tolist() == [0.0, 0.0, 0.0, 0.0] and high[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]
    q_low, q_high = chunk_target_range(
        arrays, frames, horizon=4, relative=True, per_offset=True, quantile=0.25
    )
    chunks = ChunkDataset(arrays, np.arange(4), horizon=4, image_size=8).batch(frames)
    third = (chunks["action"] - chunks["state"][:, None])[:, 3, 0].numpy()
    np.testing.assert_allclose([q_low[3, 0], q_high[3, 0]], np.quantile(third, [0.25, 0.75]))
    with pytest.raises(DatasetError, match=r"quantile must be in \[0, 0.5\)"):
        chunk_target_range(arrays, frames, horizon=4, relative=True, quantile=0.5)


def test_first_mask_is_the_episodes_first_frame_and_head_mask_the_current_one(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    dataset = ChunkDataset(arrays, np.arange(4), horizon=2, image_size=8)
    # Frame 9 is odd (empty mask) in episode 2, whose first frame 8 is even (mask set).
    batch = dataset.batch(np.array([9]))
    assert batch["head_mask"].sum() == 0 and batch["first_mask"][0, 0, 0, 0] == 1.0
    # Frame 6 is even, in episode 1 starting at odd frame 5.
    batch = dataset.batch(np.array([6]))
    assert batch["head_mask"][0, 0, 0, 0] == 1.0 and batch["first_mask"].sum() == 0


def test_tick_counts_frames_since_the_episodes_start(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    dataset = ChunkDataset(arrays, np.arange(4), horizon=2, image_size=8)
    # Episodes start at frames 0, 5, 8, 15.
    batch = dataset.batch(np.array([0, 4, 5, 9, 18]))
    assert batch["tick"].dtype == torch.float32
    assert batch["tick"].tolist() == [0.0, 4.0, 0.0, 1.0, 3.0]


def test_split_is_by_episode_seeded_and_never_shares_frames(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr", lengths=[3] * 20))
    split = split_episodes(20, 0.25, seed=7)
    assert len(split.val) == 5 and len(split.train) == 15
    assert not set(split.train) & set(split.val)
    assert set(split.train) | set(split.val) == set(range(20))
    again = split_episodes(20, 0.25, seed=7)
    assert split.val.tolist() == again.val.tolist()
    assert split_episodes(20, 0.25, seed=8).val.tolist() != split.val.tolist()
    train = ChunkDataset(arrays, split.train, horizon=8, image_size=8)
    val = ChunkDataset(arrays, split.val, horizon=8, image_size=8)
    train_frames = set(train.batch(np.arange(len(train)))["action"][:, :, 0].flatten().tolist())
    val_frames = set(val.batch(np.arange(len(val)))["action"][:, :, 0].flatten().tolist())
    assert not train_frames & val_frames  # not even a padded chunk reaches into the other split


def test_a_single_episode_trains_without_validation() -> None:
    split = split_episodes(1, 0.1, seed=0)
    assert split.train.tolist() == [0] and split.val.tolist() == []


def test_step_batches_are_deterministic_and_cover_each_epoch(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    dataset = ChunkDataset(arrays, np.arange(4), horizon=2, image_size=8, augments=[ColorJitter()])
    batches = StepBatches(dataset, batch_size=4, seed=3)
    first, again = batches[2], batches[2]
    for key in first:
        assert torch.equal(first[key], again[key]), key
    assert not torch.equal(batches[1]["state"], batches[2]["state"])
    # 19 samples, batch 4: every sample once in the first 19 positions of the stream.
    positions = np.concatenate([batch_positions(step, 4, 19, seed=3) for step in range(5)])
    assert sorted(positions[:19].tolist()) == list(range(19))


def test_processes_get_disjoint_samples() -> None:
    rank0 = batch_positions(0, 5, 10, seed=1, rank=0, world=2)
    rank1 = batch_positions(0, 5, 10, seed=1, rank=1, world=2)
    assert sorted(np.concatenate([rank0, rank1]).tolist()) == list(range(10))


def test_jitter_touches_only_trainable_cameras(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    plain = ChunkDataset(arrays, np.arange(4), horizon=2, image_size=8)
    jittered = ChunkDataset(
        arrays,
        np.arange(4),
        horizon=2,
        image_size=8,
        augments=[ColorJitter()],
        augment_cameras=("wrist_rgb",),
    )
    positions = np.arange(8)
    a, b = plain.batch(positions), jittered.batch(positions, torch.Generator().manual_seed(0))
    assert torch.equal(a["head_rgb"], b["head_rgb"])
    assert not torch.allclose(a["wrist_rgb"], b["wrist_rgb"])
    assert float(b["wrist_rgb"].min()) >= 0.0 and float(b["wrist_rgb"].max()) <= 1.0


def test_resizes_to_the_policy_image_size(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr", image_size=8))
    batch = ChunkDataset(arrays, np.arange(4), horizon=2, image_size=16).batch(np.arange(3))
    assert batch["head_rgb"].shape == (3, 3, 16, 16) and batch["first_mask"].shape == (3, 1, 16, 16)


def test_cached_features_replace_the_rgb(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    # (frames, views, tokens, width): one view
    features = {"head_features": np.arange(arrays.num_frames * 6, dtype=np.float32).reshape(-1, 1, 2, 3)}
    batch = ChunkDataset(arrays, np.arange(4), horizon=2, image_size=8, features=features).batch(
        np.array([4, 0])
    )
    assert "head_rgb" not in batch and "wrist_rgb" in batch
    assert batch["head_features"][:, 0, 0].tolist() == [24.0, 0.0]


def test_missing_or_empty_stores_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no zarr.json"):
        load_demo_arrays(tmp_path / "nowhere.zarr")
    DemoStore.create_or_append(tmp_path / "empty.zarr", image_size=8, control_hz=20.0, joints=13).close()
    with pytest.raises(DatasetError, match="no episodes"):
        load_demo_arrays(tmp_path / "empty.zarr")


def test_frames_of_a_stopped_write_past_the_committed_episodes_are_not_read(tmp_path: Path) -> None:
    """A collect stopped mid-episode leaves frames past meta/episode_ends until the next writer
    cuts them; training reads the committed episodes, in memory or left on disk."""
    path = _store(tmp_path / "d.zarr")
    committed = load_demo_arrays(path)
    root = zarr.open_group(str(path), mode="r+")
    for key in ("action", "state", "head_rgb", "wrist_rgb", "head_mask", "head_table", "wrist_table"):
        array = root[f"data/{key}"]
        array.resize((array.shape[0] + 5, *array.shape[1:]))
    for on_disk in ((), ("head_rgb",), ("head_rgb", "wrist_rgb")):
        arrays = load_demo_arrays(path, on_disk=on_disk)
        assert arrays.num_frames == committed.num_frames
        dataset = ChunkDataset(arrays, np.arange(arrays.num_episodes), horizon=4, image_size=8)
        assert len(dataset) == committed.num_frames
        assert np.array_equal(
            dataset.batch(np.arange(len(dataset)))["action"].numpy(),
            ChunkDataset(committed, np.arange(committed.num_episodes), horizon=4, image_size=8)
            .batch(np.arange(len(dataset)))["action"]
            .numpy(),
        )


def test_colour_jitter_matches_grey_invariants() -> None:
    grey = torch.full((2, 3, 4, 4), 0.5)
    out = ColorJitter(brightness=0.0, contrast=0.0, saturation=0.5, hue=0.5)(
        grey, None, None, torch.Generator().manual_seed(0)
    )
    assert torch.allclose(out, grey, atol=1e-6)  # saturation and hue leave grey alone
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 1.0
    shifted = ColorJitter(brightness=0.0, contrast=0.0, saturation=0.0, hue=0.5)(
        red, None, None, torch.Generator().manual_seed(1)
    )
    assert shifted.amax(dim=1).allclose(torch.ones(1, 2, 2))  # value is kept
    assert not torch.allclose(shifted, red)


def test_hue_rotation_keeps_luma_and_a_full_turn_is_the_identity() -> None:
    from dexagent.controller.data.augment import _grey, _shift_hue

    rgb = torch.rand(3, 3, 4, 4, generator=torch.Generator().manual_seed(0)) * 0.5 + 0.25
    turned = _shift_hue(rgb, torch.tensor([0.05, 0.1, 1.0]))
    assert torch.allclose(_grey(turned), _grey(rgb), atol=1e-5)
    assert torch.allclose(turned[2], rgb[2], atol=1e-5)
    assert not torch.allclose(turned[1], rgb[1], atol=1e-3)


def test_random_conv_recolours_only_the_drawn_images_and_stays_in_range() -> None:
    rgb = torch.rand(16, 3, 12, 12, generator=torch.Generator().manual_seed(0))
    out = RandomConv(probability=0.5)(rgb, None, None, torch.Generator().manual_seed(4))
    changed = (out - rgb).abs().flatten(1).amax(1) > 1e-6
    assert 0 < int(changed.sum()) < 16  # about half the batch, never none or all at p=0.5
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    again = RandomConv(probability=0.5)(rgb, None, None, torch.Generator().manual_seed(4))
    assert torch.equal(out, again)  # reproducible from the generator
    assert torch.equal(RandomConv(probability=0.0)(rgb, None, None, torch.Generator().manual_seed(4)), rgb)


def test_random_conv_can_invert_a_white_table() -> None:
    white = torch.full((64, 3, 8, 8), 0.9)
    white[:, :, 2:4, 2:4] = 0.1  # a dark object on a white table
    out = RandomConv(probability=1.0, kernel_sizes=(1,))(white, None, None, torch.Generator().manual_seed(2))
    table, item = out[:, :, 0, 0].mean(1), out[:, :, 3, 3].mean(1)
    assert bool((item > table).any()) and bool((item < table).any())  # contrast kept or inverted


def test_random_conv_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="probability"):
        RandomConv(probability=1.5)
    with pytest.raises(ValueError, match="odd"):
        RandomConv(kernel_sizes=(2,))
    with pytest.raises(ValueError, match=r"\(B, 3, S, S\)"):
        RandomConv()(torch.zeros(3, 8, 8), None, None, torch.Generator())


def test_random_conv_follows_the_jitter_on_trainable_cameras(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    jitter_only = ChunkDataset(
        arrays,
        np.arange(4),
        horizon=2,
        image_size=8,
        augments=[ColorJitter()],
        augment_cameras=("wrist_rgb",),
    )
    both = ChunkDataset(
        arrays, np.arange(4), horizon=2, image_size=8, augments=[ColorJitter(), RandomConv(probability=1.0)],
        augment_cameras=("wrist_rgb",),
    )  # fmt: skip
    positions = np.arange(8)
    a = jitter_only.batch(positions, torch.Generator().manual_seed(0))
    b = both.batch(positions, torch.Generator().manual_seed(0))
    assert torch.equal(a["head_rgb"], b["head_rgb"])
    assert not torch.allclose(a["wrist_rgb"], b["wrist_rgb"])


def _table_scene(batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A white table (0.93) with a shadowed half (0.465) and a red object in the middle."""
    rgb = torch.full((batch, 3, 8, 8), 0.93)
    rgb[:, :, :, 4:] *= 0.5
    rgb[:, :, 3:5, 3:5] = torch.tensor([0.8, 0.1, 0.1]).view(1, 3, 1, 1)
    table = torch.ones(batch, 1, 8, 8)
    table[:, :, 3:5, 3:5] = 0
    return rgb, table


def test_table_retexture_recolours_only_the_table_and_keeps_its_shading() -> None:
    rgb, table = _table_scene(32)
    retexture = TableRetexture(probability=0.5, grids=(1,))
    out = retexture(rgb, table, retexture.draw(32, torch.Generator().manual_seed(0)), torch.Generator())
    changed = (out - rgb).abs().flatten(1).amax(1) > 1e-6
    assert 0 < int(changed.sum()) < 32  # about half the batch at p = 0.5
    assert torch.equal(out[:, :, 3:5, 3:5], rgb[:, :, 3:5, 3:5])  # the object is untouched
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    # A flat new colour, times the old shading: the shadowed half is half as bright.
    lit, shadowed = out[changed][:, :, 0, 0], out[changed][:, :, 0, 7]
    assert torch.allclose(shadowed, lit * 0.5, atol=1e-5)
    assert float((lit - 0.93).abs().amax(1).min()) > 0.02  # new colours, not the white table


def test_table_retexture_gives_both_cameras_of_a_sample_the_same_colours() -> None:
    rgb, table = _table_scene(6)
    retexture = TableRetexture(probability=1.0, grids=(1,))
    drawn = retexture.draw(6, torch.Generator().manual_seed(3))
    head = retexture(rgb, table, drawn, torch.Generator())
    wrist = retexture(rgb, table, drawn, torch.Generator())
    assert torch.equal(head, wrist)
    other = retexture(rgb, table, retexture.draw(6, torch.Generator().manual_seed(4)), torch.Generator())
    assert not torch.equal(head, other)
    textured = TableRetexture(probability=1.0, grids=(4,))
    noisy = textured(rgb, table, drawn, torch.Generator().manual_seed(0))
    assert float(noisy[:, :, :3, :3].std()) > 0.01  # a field between two colours, not flat


def test_table_retexture_rejects_bad_settings_and_shapes() -> None:
    with pytest.raises(ValueError, match="probability"):
        TableRetexture(probability=-0.5)
    with pytest.raises(ValueError, match="grids"):
        TableRetexture(grids=(0,))
    with pytest.raises(ValueError, match=r"\(B, 1, S, S\) table masks"):
        retexture = TableRetexture()
        retexture(
            torch.zeros(2, 3, 8, 8),
            torch.zeros(2, 8, 8),
            retexture.draw(2, torch.Generator()),
            torch.Generator(),
        )


def test_the_dataset_retextures_the_stored_table_of_trainable_cameras_only(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    assert arrays.head_table.shape == arrays.head_mask.shape and arrays.head_table.dtype == np.bool_
    plain = ChunkDataset(arrays, np.arange(4), horizon=2, image_size=8, augment_cameras=("head_rgb",))
    retextured = ChunkDataset(
        arrays, np.arange(4), horizon=2, image_size=8, augment_cameras=("head_rgb",),
        augments=[TableRetexture(probability=1.0)],
    )  # fmt: skip
    positions = np.arange(8)
    a = plain.batch(positions, torch.Generator().manual_seed(0))
    b = retextured.batch(positions, torch.Generator().manual_seed(0))
    assert torch.equal(a["wrist_rgb"], b["wrist_rgb"])  # not a trainable camera here
    table = torch.from_numpy(arrays.head_table[plain.frames[positions]])[:, None].expand(-1, 3, -1, -1)
    assert torch.equal(a["head_rgb"][~table], b["head_rgb"][~table])  # the target's pixels stay
    assert not torch.equal(a["head_rgb"][table], b["head_rgb"][table])
    # Reproducible from the generator, as a resumed run needs.
    assert torch.equal(
        b["head_rgb"], retextured.batch(positions, torch.Generator().manual_seed(0))["head_rgb"]
    )


def test_relight_scales_the_whole_image_by_the_drawn_gains() -> None:
    rgb, _ = _table_scene(64)
    relight = Relight(probability=0.5, grids=(1,))
    drawn = relight.draw(64, torch.Generator().manual_seed(0))
    out = relight(rgb, None, drawn, torch.Generator())
    chosen, gains = drawn
    assert 0 < int(chosen.sum()) < 64  # about half the batch at p = 0.5
    assert torch.equal(out[~chosen], rgb[~chosen])
    # One cell: every pixel of a re-lit image is scaled by one gain per channel, between the two tints.
    ratio = (out[chosen] / rgb[chosen]).flatten(2)  # (C, 3, S*S); the scene has no black pixel
    assert torch.allclose(ratio, ratio[..., :1].expand_as(ratio), atol=1e-5)
    gain, first, second = ratio[..., 0], gains[chosen, 0], gains[chosen, 1]
    assert bool(
        ((gain >= torch.minimum(first, second) - 1e-5) & (gain <= torch.maximum(first, second) + 1e-5)).all()
    )
    low, high = relight.brightness
    assert float(gains.amax()) <= high and float(gains.amin()) >= low * (1 - relight.tint)
    assert float(gains[chosen].amax(-1).amin()) < 0.6  # some lights are dim, as the unseen "dim" one


def test_relight_shares_the_light_between_cameras_and_varies_it_across_the_image() -> None:
    rgb, _ = _table_scene(8)
    relight = Relight(probability=1.0, grids=(3,))
    drawn = relight.draw(8, torch.Generator().manual_seed(5))
    head = relight(rgb, None, drawn, torch.Generator().manual_seed(0))
    again = relight(rgb, None, drawn, torch.Generator().manual_seed(0))
    assert torch.equal(head, again)  # reproducible from the draw and the generator
    other_field = relight(rgb, None, drawn, torch.Generator().manual_seed(1))
    assert not torch.equal(head, other_field)  # each camera gets its own field
    ratio = head[:, :, :, :4] / rgb[:, :, :, :4]  # the lit half: no clamping, ratios are the gains
    assert float(ratio.flatten(2).std(-1).amax()) > 0.01  # uneven, not one gain everywhere


def test_relight_rejects_bad_settings_and_shapes() -> None:
    with pytest.raises(ValueError, match="probability"):
        Relight(probability=2.0)
    with pytest.raises(ValueError, match="brightness"):
        Relight(brightness=(0.0, 1.0))
    with pytest.raises(ValueError, match="tint"):
        Relight(tint=1.0)
    with pytest.raises(ValueError, match=r"\(B, 3, S, S\)"):
        relight = Relight()
        relight(torch.zeros(2, 8, 8), None, relight.draw(2, torch.Generator()), torch.Generator())


def test_the_dataset_relights_trainable_cameras_only(tmp_path: Path) -> None:
    arrays = load_demo_arrays(_store(tmp_path / "d.zarr"))
    plain = ChunkDataset(arrays, np.arange(4), horizon=2, image_size=8, augment_cameras=("head_rgb",))
    relit = ChunkDataset(
        arrays, np.arange(4), horizon=2, image_size=8, augment_cameras=("head_rgb",),
        augments=[Relight(probability=1.0)],
    )  # fmt: skip
    positions = np.arange(8)
    a = plain.batch(positions, torch.Generator().manual_seed(0))
    b = relit.batch(positions, torch.Generator().manual_seed(0))
    assert torch.equal(a["wrist_rgb"], b["wrist_rgb"])  # not a trainable camera here
    assert float(b["head_rgb"].mean()) < float(a["head_rgb"].mean())  # gains are mostly below 1
    assert torch.equal(b["head_rgb"], relit.batch(positions, torch.Generator().manual_seed(0))["head_rgb"])


def test_a_configs_augmentation_list_builds_its_transforms_in_order() -> None:
    from dexagent.controller.data.augment import AugmentError, build_augments, parse_augment

    built = build_augments([("relight", 0.5), ("color_jitter", 1.0), ("random_conv", 0.0)])
    assert [type(a) for a in built] == [Relight, ColorJitter]  # probability 0 drops one
    assert built[0].probability == 0.5
    assert parse_augment("retexture_table=0.25") == ("retexture_table", 0.25)
    assert parse_augment("color_jitter") == ("color_jitter", 1.0)
    with pytest.raises(AugmentError, match="unknown augmentation 'blur'"):
        build_augments([("blur", 0.5)])
    with pytest.raises(AugmentError, match="expected TYPE=PROBABILITY"):
        parse_augment("relight=often")


def test_colour_jitter_with_a_probability_leaves_the_other_images_alone() -> None:
    rgb = torch.rand(32, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    out = ColorJitter(probability=0.5)(rgb, None, None, torch.Generator().manual_seed(1))
    changed = (out - rgb).abs().flatten(1).amax(1) > 1e-6
    assert 0 < int(changed.sum()) < 32
    always = ColorJitter()(rgb, None, None, torch.Generator().manual_seed(1))
    assert torch.equal(out[changed], always[changed])  # the same factors: only the choice differs


def test_images_read_from_disk_make_the_same_batches_as_images_in_memory(tmp_path: Path) -> None:
    """A store too large for memory keeps its images in zarr: same samples, same augmented pixels,
    for positions that repeat frames and come in no order."""
    path = _store(tmp_path / "d.zarr")
    in_memory = load_demo_arrays(path)
    on_disk = load_demo_arrays(path, on_disk=["head_rgb", "wrist_rgb"])
    assert isinstance(on_disk.head_rgb, zarr.Array) and isinstance(on_disk.wrist_table, zarr.Array)
    augments = [TableRetexture(probability=1.0, grids=(1,)), Relight(probability=1.0), ColorJitter()]
    repeats = np.array([3, 1, 2, 1])
    batches = [
        StepBatches(
            ChunkDataset(
                arrays, np.arange(4), horizon=3, image_size=8, augments=augments, episode_repeats=repeats
            ),
            batch_size=16, seed=5,
        )[2]
        for arrays in (in_memory, on_disk)
    ]  # fmt: skip
    frames = batches[0]["state"][:, 0].long().numpy()
    assert len(set(frames.tolist())) < len(frames) and (np.diff(frames) < 0).any()  # repeats, unsorted
    assert batches[0].keys() == batches[1].keys()
    for key in batches[0]:
        torch.testing.assert_close(batches[0][key], batches[1][key], rtol=0, atol=0)


def test_read_frames_reads_zarr_rows_in_the_order_asked(tmp_path: Path) -> None:
    images = zarr.create_array(tmp_path / "a.zarr", shape=(40, 2), chunks=(8, 2), dtype="int64")
    images[:] = np.arange(80).reshape(40, 2)
    frames = np.array([33, 2, 33, 17, 0, 2])
    np.testing.assert_array_equal(read_frames(images, frames), np.arange(80).reshape(40, 2)[frames])
