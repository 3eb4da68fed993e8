"""`--init-from`: a fresh run starts from a checkpoint's weights, new state inputs at zero."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from dexagent.controller.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dexagent.controller.config import DiTConfig, EncoderConfig, PolicyConfig
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.training import TrainConfig, TrainingError, train
from dexagent.controller.training.warm_start import _grown_patch_kernel, warm_start

torch.set_num_threads(1)


def _batch(size: int, tick: float) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    mask = torch.zeros(2, 1, size, size)
    mask[:, :, 4:8, 4:8] = 1.0
    return {
        "head_rgb": torch.rand(2, 3, size, size, generator=generator),
        "wrist_rgb": torch.rand(2, 3, size, size, generator=generator),
        "head_mask": mask,
        "first_mask": mask.clone(),
        "state": torch.randn(2, 13, generator=generator),
        "tick": torch.full((2,), tick),
    }


def _trained_like(config: PolicyConfig, randomize: Callable[..., None]) -> DexGraspPolicy:
    torch.manual_seed(0)
    five = torch.full((13,), 5.0).numpy()
    policy = DexGraspPolicy(config, Normalizer(-five, five, -five, five))
    randomize(policy)  # non-zero output layers: the prediction depends on every input
    return policy


def test_a_time_input_starts_at_zero_so_the_warm_started_policy_acts_as_the_checkpoint(
    tiny_config: Callable[..., PolicyConfig], randomize: Callable[..., None], tmp_path: Path
) -> None:
    source = _trained_like(tiny_config(), randomize)
    save_checkpoint(tmp_path / "ckpt", source)
    policy = DexGraspPolicy(tiny_config(time_input=True))
    started = warm_start(policy, tmp_path / "ckpt")
    assert started.widened == ("state_proj.0.weight",) and not started.fresh
    assert started.normalizer.to_dict() == source.normalizer.to_dict()
    size = policy.config.image_size
    expected = source.predict_chunk(_batch(size, 0.0), generator=torch.Generator().manual_seed(0))
    for tick in (0.0, 50.0):  # the new column is zero: the tick does not matter yet
        got = policy.predict_chunk(_batch(size, tick), generator=torch.Generator().manual_seed(0))
        torch.testing.assert_close(got, expected)
    with torch.no_grad():
        policy.state_proj[0].weight[:, -1] = 1.0  # once trained, it does
    moved = policy.predict_chunk(_batch(size, 50.0), generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(moved, expected)


def test_a_new_action_range_keeps_the_datas_normaliser(
    tiny_config: Callable[..., PolicyConfig], randomize: Callable[..., None], tmp_path: Path
) -> None:
    save_checkpoint(tmp_path / "ckpt", _trained_like(tiny_config(), randomize))
    config = tiny_config(action_range="per_offset")
    ones = torch.ones(config.horizon, 13).numpy()
    policy = DexGraspPolicy(config, Normalizer(-ones[0], ones[0], -ones, ones))
    started = warm_start(policy, tmp_path / "ckpt")
    assert started.normalizer is None and policy.normalizer.horizon == config.horizon
    assert "the data's action ranges" in started.summary()


def test_a_checkpoint_that_cannot_carry_over_is_a_clear_error(
    tiny_config: Callable[..., PolicyConfig], randomize: Callable[..., None], tmp_path: Path
) -> None:
    save_checkpoint(tmp_path / "ckpt", _trained_like(tiny_config(), randomize))
    with pytest.raises(CheckpointError, match=r"cannot carry over \(e\.g\. .*\(32,\) there vs \(48,\) here"):
        warm_start(DexGraspPolicy(tiny_config(dit=DiTConfig(width=48, depth=2, heads=2))), tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="action_mode 'delta' there, 'absolute' in the new config"):
        warm_start(DexGraspPolicy(tiny_config(action_mode="absolute")), tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="no such checkpoint directory"):
        warm_start(DexGraspPolicy(tiny_config()), tmp_path / "absent")


def test_a_warm_started_run_begins_at_the_checkpoints_weights(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data = demo_store()
    settings = dict(batch_size=8, warmup_steps=1, val_every=2, val_batches=1, save_every=2, seed=5)
    first_run = TrainConfig(steps=6, lr=1e-3, **settings)
    train(data, tmp_path / "first", first_run, tiny_config(), show_progress=False)
    first = load_checkpoint(tmp_path / "first")
    # A learning rate so small that two steps leave the weights where they started.
    warm = TrainConfig(steps=2, lr=1e-12, init_from=str(tmp_path / "first"), **settings)
    result = train(data, tmp_path / "second", warm, tiny_config(time_input=True), show_progress=False)
    second = load_checkpoint(tmp_path / "second")
    weights = second.state_dict()
    for name, value in first.state_dict().items():
        if name == "state_proj.0.weight":
            torch.testing.assert_close(weights[name][:, :-1], value)
            assert float(weights[name][:, -1].abs().max()) < 1e-9  # zero, plus two 1e-12 steps
        else:
            torch.testing.assert_close(weights[name], value, msg=name)
    assert result.step == 2
    with pytest.raises(TrainingError, match="no such checkpoint directory"):
        train(data, tmp_path / "third", TrainConfig(steps=2, init_from=str(tmp_path / "x"), **settings),
              tiny_config(), show_progress=False)  # fmt: skip


def test_data_beyond_the_checkpoints_ranges_widens_them_and_data_within_keeps_them(
    tiny_config: Callable[..., PolicyConfig], randomize: Callable[..., None], tmp_path: Path
) -> None:
    save_checkpoint(tmp_path / "ckpt", _trained_like(tiny_config(), randomize))  # ranges -5..5
    config = tiny_config()
    near = torch.full((13,), 5.1).numpy()  # within 5% of the span (0.5): on-policy data of the skill
    within = warm_start(DexGraspPolicy(config, Normalizer(-near, near, -near, near)), tmp_path / "ckpt")
    assert within.ranges_widened == 0 and within.summary().endswith("its normaliser")
    assert float(within.normalizer.action_max[0]) == 5.0  # type: ignore[union-attr]

    far = torch.full((13,), 4.0).numpy()
    far[1] = 9.0  # another skill's motions reach well beyond in one joint
    policy = DexGraspPolicy(config, Normalizer(-far, far, -far, far))
    widened = warm_start(policy, tmp_path / "ckpt")
    assert widened.ranges_widened == 1
    assert "widened in 1 dimensions to cover the data" in widened.summary()
    assert policy.normalizer.action_max[1] == 9.0 and policy.normalizer.action_min[1] == -9.0
    assert policy.normalizer.action_max[0] == 5.0  # the checkpoint's where the data stays inside


def test_a_mask_patch_grown_by_a_whole_factor_is_resampled_to_see_the_same_tokens(
    tiny_config: Callable[..., PolicyConfig], randomize: Callable[..., None], tmp_path: Path
) -> None:
    source = _trained_like(tiny_config(), randomize)  # 16 px head, 4 px mask patches, a 4x4 grid
    save_checkpoint(tmp_path / "ckpt", source)
    head = EncoderConfig(kind="cnn", width=16, patch_size=4, channels=(8, 16), pool=2)
    policy = DexGraspPolicy(tiny_config(image_size=32, wrist_image_size=16, head_encoder=head))
    started = warm_start(policy, tmp_path / "ckpt")  # the head renders at 32 px: 8 px mask patches
    assert started.resampled == ("mask_encoder.patch_embed.weight",) and not started.fresh
    summary = started.summary()
    assert "resampled to the new patches, token grids or inputs: mask_encoder.patch_embed.weight" in summary
    small = (torch.rand(3, 2, 16, 16, generator=torch.Generator().manual_seed(2)) > 0.7).float()
    large = small.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)  # the same masks at 32 px
    assert source.mask_encoder is not None and policy.mask_encoder is not None
    torch.testing.assert_close(policy.mask_encoder(large), source.mask_encoder(small))


def test_only_a_whole_factor_larger_square_patch_kernel_is_resampled() -> None:
    kernel = torch.randn(5, 2, 4, 4)
    assert _grown_patch_kernel(kernel, torch.Size((5, 2, 12, 12))) is not None
    for shape in ((5, 2, 6, 6), (5, 2, 2, 2), (5, 2, 8, 4), (5, 3, 8, 8), (5, 2, 4, 4)):
        assert _grown_patch_kernel(kernel, torch.Size(shape)) is None, shape
    assert _grown_patch_kernel(torch.randn(5, 8), torch.Size((5, 16))) is None


def test_a_finer_head_grid_interpolates_the_head_positions_and_keeps_the_others(
    tiny_config: Callable[..., PolicyConfig], randomize: Callable[..., None], tmp_path: Path
) -> None:
    source = _trained_like(tiny_config(), randomize)  # 16 px head, a 4x4 grid
    with torch.no_grad():  # a head grid whose positions vary along x only: interpolation keeps that
        ramp = torch.linspace(-1.0, 1.0, 4).repeat(4)[None, :, None]
        source.obs_pos[:, :16] = ramp.expand(1, 16, source.obs_pos.shape[2])
    save_checkpoint(tmp_path / "ckpt", source)
    policy = DexGraspPolicy(tiny_config(image_size=32, wrist_image_size=16))  # unpooled: an 8x8 grid
    started = warm_start(policy, tmp_path / "ckpt")
    assert set(started.resampled) == {"mask_encoder.pos_embed", "obs_pos"} and not started.fresh
    new = policy.obs_pos.detach()
    assert new.shape[1] == 64 + source.obs_pos.shape[1] - 16  # the wrist's and the state's tokens follow
    torch.testing.assert_close(new[:, 64:], source.obs_pos[:, 16:])  # wrist and state positions as they were
    grid = new[0, :64, 0].reshape(8, 8)
    torch.testing.assert_close(grid, grid[:1].expand(8, 8))  # still constant down each column
    assert (
        bool((grid[0, 1:] >= grid[0, :-1]).all()) and float(grid[0, 0]) >= -1.0 and float(grid[0, -1]) <= 1.0
    )
    assert policy.mask_encoder is not None and policy.mask_encoder.pos_embed.shape[1] == 64


def test_an_unpooled_wrist_grid_interpolates_the_wrist_positions_and_keeps_the_others(
    tiny_config: Callable[..., PolicyConfig], randomize: Callable[..., None], tmp_path: Path
) -> None:
    config = tiny_config()  # a 4x4 head grid, the wrist's pooled to 2x2: 16 + 4 + 1 tokens
    head, side = config.head_grid**2, config.wrist_grid
    source = _trained_like(config, randomize)
    with torch.no_grad():  # a wrist grid whose positions vary down the rows only
        ramp = torch.linspace(-1.0, 1.0, side).repeat_interleave(side)[None, :, None]
        source.obs_pos[:, head : head + side * side] = ramp.expand(1, side * side, source.obs_pos.shape[2])
    save_checkpoint(tmp_path / "ckpt", source)
    unpooled = dataclasses.replace(config.wrist_encoder, pool=1)
    policy = DexGraspPolicy(tiny_config(wrist_encoder=unpooled))
    new_side = policy.config.wrist_grid
    assert new_side == 2 * side
    started = warm_start(policy, tmp_path / "ckpt")
    assert started.resampled == ("obs_pos",) and not started.fresh and not started.widened
    new = policy.obs_pos.detach()
    assert new.shape[1] == head + new_side**2 + 1
    torch.testing.assert_close(new[:, :head], source.obs_pos[:, :head])  # the head's positions as they were
    torch.testing.assert_close(new[:, -1:], source.obs_pos[:, -1:])  # and the state token's
    grid = new[0, head : head + new_side**2, 0].reshape(new_side, new_side)
    torch.testing.assert_close(grid, grid[:, :1].expand(new_side, new_side))  # still constant along each row
    assert bool((grid[1:, 0] >= grid[:-1, 0]).all()) and float(grid[0, 0]) < float(grid[-1, 0])
    for name, value in source.wrist_encoder.state_dict().items():  # pooling is not a weight
        torch.testing.assert_close(policy.wrist_encoder.state_dict()[name], value)
    size = config.image_size
    chunk = policy.predict_chunk(_batch(size, 0.0), generator=torch.Generator().manual_seed(0))
    assert chunk.shape[0] == 2 and bool(torch.isfinite(chunk).all())


def test_dropping_the_time_input_keeps_the_other_state_columns(
    tiny_config: Callable[..., PolicyConfig], randomize: Callable[..., None], tmp_path: Path
) -> None:
    source = _trained_like(tiny_config(time_input=True), randomize)
    save_checkpoint(tmp_path / "ckpt", source)
    policy = DexGraspPolicy(tiny_config(time_input=False))
    started = warm_start(policy, tmp_path / "ckpt")
    assert started.resampled == ("state_proj.0.weight",) and not started.fresh
    old = source.state_proj[0].weight.detach()
    torch.testing.assert_close(policy.state_proj[0].weight.detach(), old[:, :-1])
    with torch.no_grad():  # with the time's weights at zero the checkpoint acts as the new policy does
        source.state_proj[0].weight[:, -1] = 0.0
    size = policy.config.image_size
    expected = source.predict_chunk(_batch(size, 30.0), generator=torch.Generator().manual_seed(0))
    got = policy.predict_chunk(_batch(size, 30.0), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(got, expected)
