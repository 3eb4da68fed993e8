"""The frozen-feature cache: same loss as encoding on the fly, keyed by encoder, size and data."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr
from transformers import Dinov2Model

from dexagent.controller.config import EncoderConfig, PolicyConfig
from dexagent.controller.data.dataset import (
    ChunkDataset,
    DatasetError,
    DemoArrays,
    load_demo_arrays,
    observed_frames,
)
from dexagent.controller.encoders import dinov2_config
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.training import TrainConfig, TrainingError, train
from dexagent.controller.training.features import (
    FeatureCacheError,
    FeatureViews,
    LazyFeatures,
    cache_dir,
    cache_key,
    load_or_build_feature_cache,
    read_feature_cache,
)
from dexagent.controller.training.setup import load_data

torch.set_num_threads(1)


def _encoder(source: str) -> EncoderConfig:
    return EncoderConfig(
        kind="dinov2", source=source, frozen=True, width=16, patch_size=4, depth=1, heads=2, mlp_ratio=2,
        native_image_size=16,
    )  # fmt: skip


@pytest.fixture
def tiny_dinov2(tmp_path: Path) -> str:
    """A random-initialised DINOv2 saved like a downloaded one, loaded through from_pretrained."""
    folder = tmp_path / "tiny-dinov2"
    torch.manual_seed(0)
    Dinov2Model(dinov2_config(_encoder(str(folder)))).save_pretrained(folder)
    return str(folder)


def _frozen_config(tiny_config: Callable[..., PolicyConfig], source: str) -> PolicyConfig:
    return tiny_config(head_encoder=_encoder(source), wrist_encoder=_encoder(source))


def _store_and_frozen_policy(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], source: str
) -> tuple[Path, DemoArrays, DexGraspPolicy]:
    """A fresh demo store, its arrays, and a policy whose cameras both use the frozen encoder `source`."""
    data = demo_store()
    return data, load_demo_arrays(data), DexGraspPolicy(_frozen_config(tiny_config, source))


def test_cached_features_give_the_same_loss_as_encoding_on_the_fly(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tiny_dinov2: str
) -> None:
    data = demo_store()
    arrays = load_demo_arrays(data)
    torch.manual_seed(0)
    policy = DexGraspPolicy(
        _frozen_config(tiny_config, tiny_dinov2), Normalizer.from_data(arrays.state, arrays.action)
    )
    every = np.arange(arrays.num_frames)
    features, path = load_or_build_feature_cache(data, policy, arrays, every)
    assert path.parent == cache_dir(data) and (path / "zarr.json").is_file()
    assert features["head_features"].shape == (arrays.num_frames, 1, 16, 16)  # (frames, views, N, D)
    assert features["head_features"].dtype == np.float16  # half the memory of float32
    episodes = np.arange(arrays.num_episodes)
    on_the_fly = ChunkDataset(arrays, episodes, horizon=4, image_size=16)
    cached = ChunkDataset(arrays, episodes, horizon=4, image_size=16, features=features)
    positions = np.arange(0, len(on_the_fly), 3)
    losses = []
    for dataset in (on_the_fly, cached):
        torch.manual_seed(11)
        with torch.no_grad():
            losses.append(float(policy.compute_loss(dataset.batch(positions))))
    assert losses[0] == pytest.approx(losses[1], rel=1e-3)  # float16 features: ~1e-4 apart
    # A second call reads the cache instead of encoding again.
    again, again_path = load_or_build_feature_cache(data, policy, arrays, every)
    assert again_path == path and np.array_equal(again["wrist_features"], features["wrist_features"])


def test_training_from_the_cache_follows_the_on_the_fly_curve(
    demo_store: Callable[..., Path],
    tiny_config: Callable[..., PolicyConfig],
    tiny_dinov2: str,
    tmp_path: Path,
) -> None:
    data = demo_store()
    config = _frozen_config(tiny_config, tiny_dinov2)
    settings = dict(steps=6, batch_size=8, lr=1e-3, warmup_steps=2, val_every=3, save_every=6)
    plain = train(data, tmp_path / "a", TrainConfig(**settings), config, show_progress=False)  # type: ignore[arg-type]
    cached = train(
        data, tmp_path / "b", TrainConfig(**settings, cache_features=True), config, show_progress=False
    )  # type: ignore[arg-type]
    np.testing.assert_allclose([v for _, v in plain.losses], [v for _, v in cached.losses], rtol=2e-3)


def test_a_frozen_head_beside_a_trainable_wrist_keeps_only_the_head_images_on_disk(
    demo_store: Callable[..., Path],
    tiny_config: Callable[..., PolicyConfig],
    tiny_dinov2: str,
    tmp_path: Path,
) -> None:
    """The `sim-dinov2-head` shape: the head's features come from the cache, so its images stay
    on disk; the wrist's CNN trains on images held in memory. Same losses as without the cache."""
    data = demo_store()
    config = tiny_config(head_encoder=_encoder(tiny_dinov2))
    assert config.head_encoder.frozen and not config.wrist_encoder.frozen
    settings = TrainConfig(steps=4, batch_size=8, lr=1e-3, warmup_steps=2, val_every=2, save_every=4)
    arrays, _, _ = load_data(data, dataclasses.replace(settings, cache_features=True), config, None)
    assert isinstance(arrays.head_rgb, zarr.Array) and isinstance(arrays.head_table, zarr.Array)
    assert isinstance(arrays.wrist_rgb, np.ndarray) and isinstance(arrays.wrist_table, np.ndarray)
    plain = train(data, tmp_path / "a", settings, config, show_progress=False)
    cached = train(
        data, tmp_path / "b", dataclasses.replace(settings, cache_features=True), config, show_progress=False
    )
    np.testing.assert_allclose([v for _, v in plain.losses], [v for _, v in cached.losses], rtol=2e-3)
    with pytest.raises(DatasetError, match="on_disk names no camera"):
        load_demo_arrays(data, on_disk=["left_rgb"])


def test_a_strided_cache_holds_and_serves_only_the_observed_frames(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tiny_dinov2: str
) -> None:
    data, arrays, policy = _store_and_frozen_policy(demo_store, tiny_config, tiny_dinov2)
    episodes = np.arange(arrays.num_episodes)
    every, strided = observed_frames(arrays, episodes), observed_frames(arrays, episodes, stride=3)
    first = arrays.episode_starts()[arrays.episode_of_frame[strided]]
    assert ((strided - first) % 3 == 0).all() and set(first) <= set(strided)  # every episode's start
    full, _ = load_or_build_feature_cache(data, policy, arrays, every)
    sparse, path = load_or_build_feature_cache(data, policy, arrays, strided)
    assert path.name != cache_key(policy, arrays, every) and len(sparse["head_features"]) == len(strided)
    dataset = ChunkDataset(arrays, episodes, horizon=4, image_size=16, features=sparse, stride=3)
    assert np.array_equal(dataset.frames, strided)
    batch = dataset.batch(np.arange(len(dataset)))
    expected = np.asarray(full["head_features"])[strided, 0].astype(np.float32)
    assert np.array_equal(batch["head_features"].numpy(), expected)
    with pytest.raises(DatasetError, match="lacks frames this dataset samples"):
        ChunkDataset(arrays, episodes, horizon=4, image_size=16, features=sparse, stride=1)


def test_augmented_views_let_a_frozen_encoder_train_on_augmentations(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tiny_dinov2: str
) -> None:
    """View 0 is the frame as recorded (the plain cache's features); the others pass both cameras
    through the run's augmentations. Training batches draw a view per sample, validation view 0."""
    data, arrays, policy = _store_and_frozen_policy(demo_store, tiny_config, tiny_dinov2)
    every = np.arange(arrays.num_frames)
    plain, plain_path = load_or_build_feature_cache(data, policy, arrays, every)
    views = FeatureViews(3, (("retexture_table", 1.0), ("relight", 1.0)), seed=0)
    viewed, path = load_or_build_feature_cache(data, policy, arrays, every, views=views)
    assert path != plain_path and "3views" in path.name
    head = np.asarray(viewed["head_features"])
    assert head.shape == (arrays.num_frames, 3, 16, 16)
    assert np.array_equal(head[:, 0], np.asarray(plain["head_features"])[:, 0])
    # Every augmented view moved the features, and the two augmented views differ from each other.
    for view in (1, 2):
        assert np.abs(head[:, view].astype(np.float32) - head[:, 0]).mean() > 1e-3
    assert np.abs(head[:, 1].astype(np.float32) - head[:, 2]).mean() > 1e-3
    rebuilt, _ = load_or_build_feature_cache(data, policy, arrays, every, views=views)
    assert np.array_equal(np.asarray(rebuilt["wrist_features"]), np.asarray(viewed["wrist_features"]))

    dataset = ChunkDataset(arrays, np.arange(arrays.num_episodes), horizon=4, image_size=16, features=viewed)
    positions = np.arange(len(dataset))
    rows = dataset.frames[positions]
    assert np.array_equal(dataset.batch(positions)["head_features"].numpy(), head[rows, 0].astype(np.float32))
    drawn = dataset.batch(positions, torch.Generator().manual_seed(1))
    chosen = [
        next(v for v in range(3) if np.array_equal(drawn["head_features"][i].numpy(), head[row, v]))
        for i, row in enumerate(rows)
    ]
    assert set(chosen) == {0, 1, 2}  # every view is drawn
    wrist = np.asarray(viewed["wrist_features"])
    for i, row in enumerate(rows):  # both cameras of a sample read the same view
        assert np.array_equal(drawn["wrist_features"][i].numpy(), wrist[row, chosen[i]])
    with pytest.raises(FeatureCacheError, match="need an augmentation"):
        FeatureViews(2, ())


def test_feature_views_can_paint_table_patterns_from_each_frames_pose(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tiny_dinov2: str
) -> None:
    """`table_pattern` needs each camera's table coordinates; the cache computes them as training does."""
    data, arrays, policy = _store_and_frozen_policy(demo_store, tiny_config, tiny_dinov2)
    every = np.arange(arrays.num_frames)
    views = FeatureViews(2, (("table_pattern", 1.0),), seed=0)
    viewed, _ = load_or_build_feature_cache(data, policy, arrays, every, views=views)
    head = np.asarray(viewed["head_features"]).astype(np.float32)
    assert np.abs(head[:, 1] - head[:, 0]).mean() > 1e-3


def test_the_cache_key_follows_encoder_weights_image_size_and_data(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tiny_dinov2: str
) -> None:
    arrays = load_demo_arrays(demo_store())
    config = _frozen_config(tiny_config, tiny_dinov2)
    policy = DexGraspPolicy(config)
    every = np.arange(arrays.num_frames)
    key = cache_key(policy, arrays, every)
    assert key.startswith("tiny-dinov2-16px-")
    assert cache_key(DexGraspPolicy(config), arrays, every) == key  # same weights from the same folder
    assert cache_key(policy, arrays, every[::2]) != key
    with torch.no_grad():
        next(policy.head_encoder.parameters()).add_(1.0)
    assert cache_key(policy, arrays, every) != key
    other = load_demo_arrays(demo_store(lengths=[4, 4]))
    assert cache_key(DexGraspPolicy(config), other, np.arange(other.num_frames)) != key


def test_a_wrist_of_its_own_size_is_cached_at_that_size(
    demo_store: Callable[..., Path],
    tiny_config: Callable[..., PolicyConfig],
    tiny_dinov2: str,
    tmp_path: Path,
) -> None:
    """Head and wrist encoders reading 16 and 8 px: the cache encodes each camera at its own size
    (its name says so) and trains as the images would."""
    data = demo_store()
    one_size = _frozen_config(tiny_config, tiny_dinov2)
    config = dataclasses.replace(one_size, wrist_image_size=8)
    arrays, every = load_demo_arrays(data), np.arange(12)
    key = cache_key(DexGraspPolicy(config), arrays, every)
    assert key.startswith("tiny-dinov2-16+8px-") and key != cache_key(DexGraspPolicy(one_size), arrays, every)
    settings = TrainConfig(steps=4, batch_size=8, lr=1e-3, warmup_steps=2, val_every=2, save_every=4)
    plain = train(data, tmp_path / "a", settings, config, show_progress=False)
    cached = train(
        data, tmp_path / "b", dataclasses.replace(settings, cache_features=True), config, show_progress=False
    )
    np.testing.assert_allclose([v for _, v in plain.losses], [v for _, v in cached.losses], rtol=2e-3)


def test_caching_needs_a_frozen_encoder(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    with pytest.raises(TrainingError, match="needs a frozen encoder"):
        train(
            demo_store(),
            tmp_path / "run",
            TrainConfig(steps=2, cache_features=True),
            tiny_config(),
            show_progress=False,
        )


def test_a_cache_too_big_for_memory_is_read_row_by_row(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tiny_dinov2: str
) -> None:
    data, arrays, policy = _store_and_frozen_policy(demo_store, tiny_config, tiny_dinov2)
    every = np.arange(arrays.num_frames)
    in_memory, path = load_or_build_feature_cache(data, policy, arrays, every)
    lazy = read_feature_cache(path, ["head_features", "wrist_features"], every, max_memory_bytes=0)
    assert lazy is not None and isinstance(lazy["head_features"], LazyFeatures)
    frames = np.array([40, 3, 3, 70, 0])  # unsorted, repeated: as a random batch
    assert np.array_equal(lazy["head_features"][frames], np.asarray(in_memory["head_features"])[frames])
    dataset = ChunkDataset(arrays, np.arange(arrays.num_episodes), horizon=4, image_size=16, features=lazy)
    assert dataset.batch(np.arange(5))["wrist_features"].shape == (5, 16, 16)


def test_an_incomplete_cache_is_rebuilt(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tiny_dinov2: str
) -> None:
    data, arrays, policy = _store_and_frozen_policy(demo_store, tiny_config, tiny_dinov2)
    every = np.arange(arrays.num_frames)
    first, path = load_or_build_feature_cache(data, policy, arrays, every)
    zarr.open_group(str(path), mode="r+").attrs["complete"] = False  # as if the build was killed
    assert read_feature_cache(path, ["head_features"], every) is None
    again, _ = load_or_build_feature_cache(data, policy, arrays, every)
    assert np.array_equal(np.asarray(again["head_features"]), np.asarray(first["head_features"]))


def test_a_run_trains_from_augmented_views_and_names_them(
    demo_store: Callable[..., Path],
    tiny_config: Callable[..., PolicyConfig],
    tiny_dinov2: str,
    tmp_path: Path,
) -> None:
    data = demo_store()
    config = tiny_config(head_encoder=_encoder(tiny_dinov2))
    settings = TrainConfig(
        steps=4, batch_size=8, lr=1e-3, warmup_steps=2, val_every=2, save_every=4, cache_features=True,
        feature_views=2, augment=(("retexture_table", 0.5), ("color_jitter", 1.0)),
    )  # fmt: skip
    result = train(data, tmp_path / "run", settings, config, show_progress=False)
    assert result.step == 4 and all(np.isfinite(loss) for _, loss in result.losses)
    assert [p.name for p in cache_dir(data).iterdir() if "2views" in p.name]
    with pytest.raises(TrainingError, match="feature_views > 1 needs cache_features"):
        TrainConfig(feature_views=2)


def test_a_bf16_cache_records_its_precision_and_never_stands_in_for_an_fp32_one(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tiny_dinov2: str
) -> None:
    data, arrays, policy = _store_and_frozen_policy(demo_store, tiny_config, tiny_dinov2)
    every = np.arange(arrays.num_frames)
    fp32, fp32_path = load_or_build_feature_cache(data, policy, arrays, every)
    policy.cast_frozen_encoders("bf16")
    bf16, bf16_path = load_or_build_feature_cache(data, policy, arrays, every)
    assert bf16_path != fp32_path and "-bf16-" in bf16_path.name and "bf16" not in fp32_path.name
    for path, precision in ((fp32_path, "fp32"), (bf16_path, "bf16")):
        attrs = zarr.open_group(str(path), mode="r").attrs
        assert (attrs["encoder_precision"], attrs["dtype"]) == (precision, "float16")
    head_fp32 = torch.from_numpy(np.asarray(fp32["head_features"], dtype=np.float32))
    head_bf16 = torch.from_numpy(np.asarray(bf16["head_features"], dtype=np.float32))
    assert torch.nn.functional.cosine_similarity(head_fp32, head_bf16, dim=-1).min() > 0.99
