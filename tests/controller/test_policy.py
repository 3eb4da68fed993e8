"""DexGraspPolicy: shapes, learning, the optimized sampler's equivalence, clear input errors."""

from __future__ import annotations

import pytest
import torch

from dexagent.controller.config import DiTConfig
from dexagent.controller.mask_encoder import target_position
from dexagent.controller.policy import DexGraspPolicy, PolicyInputError

torch.set_num_threads(1)


def test_predict_chunk_returns_horizon_by_13_raw_actions(tiny_config, make_batch) -> None:
    torch.manual_seed(0)
    config = tiny_config()
    policy = DexGraspPolicy(config)
    batch = make_batch(config, batch_size=3)
    chunk = policy.predict_chunk({k: v for k, v in batch.items() if k != "action"})
    assert chunk.shape == (3, config.horizon, 13) and chunk.dtype == torch.float32
    assert torch.isfinite(chunk).all()
    loss = policy.compute_loss(batch)
    assert loss.ndim == 0 and loss.item() > 0


def test_optimized_sampler_matches_the_naive_one(tiny_config, make_batch, randomize) -> None:
    torch.manual_seed(0)
    config = tiny_config()
    policy = DexGraspPolicy(config)
    randomize(policy)
    batch = make_batch(config, batch_size=2)
    fast = policy.predict_chunk(batch, generator=torch.Generator().manual_seed(7))
    naive = policy.predict_chunk_naive(batch, generator=torch.Generator().manual_seed(7))
    other_noise = policy.predict_chunk(batch, generator=torch.Generator().manual_seed(8))
    torch.testing.assert_close(fast, naive, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(fast, other_noise)


def test_sampling_runs_in_eval_mode_and_leaves_the_mode_as_it_found_it(
    tiny_config, make_batch, randomize
) -> None:
    torch.manual_seed(0)
    config = tiny_config(dit=DiTConfig(width=32, depth=2, heads=2, dropout=0.5))
    policy = DexGraspPolicy(config)
    randomize(policy)
    batch = make_batch(config, batch_size=2)
    policy.eval()
    reference = policy.predict_chunk(batch, generator=torch.Generator().manual_seed(3))
    assert not policy.training  # an eval-mode policy (the controller's) stays in eval mode
    policy.train()
    for sample in (policy.predict_chunk, policy.predict_chunk_naive):
        # Dropout at 0.5 would change every draw: equal chunks mean sampling ran without it.
        torch.testing.assert_close(
            sample(batch, generator=torch.Generator().manual_seed(3)), reference, rtol=1e-4, atol=1e-5
        )
        assert policy.training and all(module.training for module in policy.modules())


def test_averaged_sampling_is_the_mean_of_the_single_draws_it_batches(
    tiny_config, make_batch, randomize
) -> None:
    torch.manual_seed(0)
    single = DexGraspPolicy(tiny_config())
    randomize(single)
    averaged = DexGraspPolicy(tiny_config(inference_samples=3))
    averaged.load_state_dict(single.state_dict())
    batch = make_batch(tiny_config(), batch_size=2)
    mean = averaged.predict_chunk(batch, generator=torch.Generator().manual_seed(4))
    # The single-draw policy on each row repeated 3 times draws the same (6, H, 13) noise.
    repeated = {k: v.repeat_interleave(3, 0) for k, v in batch.items()}
    draws = single.predict_chunk(repeated, generator=torch.Generator().manual_seed(4))
    expected = draws.view(2, 3, *mean.shape[1:]).mean(dim=1)
    torch.testing.assert_close(mean, expected, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(draws[0], draws[1])  # the draws differ; their mean is what acts
    assert mean.shape == (2, single.config.horizon, 13)
    # And the naive sampler averages the same way.
    naive = averaged.predict_chunk_naive(batch, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(mean, naive, rtol=1e-4, atol=1e-5)


def test_delta_mode_predicts_the_same_network_output_relative_to_the_state(
    tiny_config, make_batch, randomize
) -> None:
    torch.manual_seed(0)
    absolute = DexGraspPolicy(tiny_config(action_mode="absolute"))
    randomize(absolute)
    delta = DexGraspPolicy(tiny_config(action_mode="delta"))
    delta.load_state_dict(absolute.state_dict())
    batch = make_batch(tiny_config(), batch_size=2)
    chunk_absolute = absolute.predict_chunk(batch, generator=torch.Generator().manual_seed(3))
    chunk_delta = delta.predict_chunk(batch, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(chunk_delta, chunk_absolute + batch["state"][:, None])
    # Training targets shift the same way: the delta policy's loss on (state + a) equals the
    # absolute policy's on a, for the same noise and timesteps.
    shifted = {**batch, "action": batch["action"] + batch["state"][:, None]}
    torch.manual_seed(5)
    loss_absolute = absolute.compute_loss(batch)
    torch.manual_seed(5)
    loss_delta = delta.compute_loss(shifted)
    torch.testing.assert_close(loss_delta, loss_absolute)


def test_a_few_hundred_steps_on_a_fixed_batch_drive_the_loss_down(tiny_config, make_batch) -> None:
    torch.manual_seed(0)
    config = tiny_config()
    policy = DexGraspPolicy(config)
    batch = make_batch(config, batch_size=8)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-3)
    losses = []
    for _ in range(300):
        loss = policy.compute_loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    assert last < 0.5 * first, (first, last)


def test_the_mask_changes_the_prediction(tiny_config, make_batch, randomize) -> None:
    torch.manual_seed(0)
    config = tiny_config()
    policy = DexGraspPolicy(config)
    randomize(policy)
    batch = make_batch(config, batch_size=1)
    moved = dict(batch, head_mask=torch.roll(batch["head_mask"], shifts=(10, 10), dims=(2, 3)))
    a = policy.predict_chunk(batch, generator=torch.Generator().manual_seed(0))
    b = policy.predict_chunk(moved, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(a, b)


def test_no_mask_ablation_runs_without_mask_inputs(tiny_config, make_batch) -> None:
    config = tiny_config(use_mask=False)
    policy = DexGraspPolicy(config)
    batch = make_batch(config, batch_size=2)
    del batch["head_mask"], batch["first_mask"]
    assert policy.mask_encoder is None
    assert policy.predict_chunk(batch).shape == (2, config.horizon, 13)
    assert policy.compute_loss(batch).item() > 0


def test_target_position_gives_centroid_spread_orientation_area_and_visibility() -> None:
    mask = torch.zeros(3, 1, 9, 9)
    mask[0, 0, 0:3, 6:9] = 1.0  # top-right 3x3 block
    for i in range(9):  # a diagonal line from top-left to bottom-right (x and y grow together)
        mask[1, 0, i, i] = 1.0
    features = target_position(mask)
    cx, cy, sx, sy, correlation, area, visible = features[0].tolist()
    assert cx == pytest.approx(0.75) and cy == pytest.approx(-0.75)
    assert sx == pytest.approx(sy) and sx == pytest.approx((2 / 3 * 0.25**2) ** 0.5, rel=1e-4)
    assert correlation == pytest.approx(0.0, abs=1e-5)  # a square has no preferred diagonal
    assert area == pytest.approx(3 / 9) and visible == 1.0
    assert features[1, 4].item() == pytest.approx(1.0, abs=1e-4)
    mirrored = target_position(mask[1:2].flip(-1))
    assert mirrored[0, 4].item() == pytest.approx(-1.0, abs=1e-4)
    assert features[2].tolist() == [0.0] * 7


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("state", torch.zeros(2, 12), r"batch\['state'\] must be \(B,13\)"),
        ("head_rgb", torch.zeros(2, 3, 16, 16), r"batch\['head_rgb'\] must be \(B,3,32,32\)"),
        ("first_mask", None, r"batch\['first_mask'\] must be \(B,1,32,32\), got None"),
        ("action", torch.zeros(2, 5, 13), r"batch\['action'\] must be \(B,8,13\)"),
    ],
)
def test_malformed_batch_raises_policy_input_error(tiny_config, make_batch, key, value, message) -> None:
    config = tiny_config()
    policy = DexGraspPolicy(config)
    batch = make_batch(config, batch_size=2)
    if value is None:
        del batch[key]
    else:
        batch[key] = value
    with pytest.raises(PolicyInputError, match=message):
        policy.compute_loss(batch)


def test_parameter_counts_cover_every_parameter(tiny_config) -> None:
    policy = DexGraspPolicy(tiny_config())
    counts = policy.parameter_counts()
    assert set(counts) == {"head encoder", "wrist encoder", "mask encoder", "projections", "DiT"}
    assert sum(t + f for t, f in counts.values()) == sum(p.numel() for p in policy.parameters())
    assert all(f == 0 for _, f in counts.values())  # the tiny config's CNN encoders are trainable


@pytest.mark.parametrize("name", ["sim", "sim-cnn", "sim-dinov2-head", "sim-no-mask"])
def test_sim_and_its_ablations_train_and_sample(name: str, make_batch) -> None:
    from dexagent.controller.config import get_config

    torch.manual_seed(0)
    config = get_config(name).for_joints(13)
    policy = DexGraspPolicy(config, load_pretrained=False)  # shapes only: random DINOv2 weights
    batch = make_batch(config, batch_size=2)
    policy.compute_loss(batch).backward()
    assert policy.predict_chunk(batch).shape == (2, 16, 13)


def test_time_input_reads_the_tick_and_needs_it(tiny_config, make_batch, randomize) -> None:
    torch.manual_seed(0)
    config = tiny_config(time_input=True)
    policy = DexGraspPolicy(config)
    randomize(policy)
    batch = make_batch(config, batch_size=1)
    chunks = []
    for tick in (0.0, 60.0):
        timed = dict(batch, tick=torch.tensor([tick]))
        chunks.append(policy.predict_chunk(timed, generator=torch.Generator().manual_seed(0)))
    assert not torch.allclose(chunks[0], chunks[1])
    untimed = {key: value for key, value in batch.items() if key != "tick"}
    with pytest.raises(PolicyInputError, match=r"batch\['tick'\] must be \(1,\) with time_input, got None"):
        policy.predict_chunk(untimed)


def test_noise_draws_encode_each_observation_once_for_k_dit_losses(
    tiny_config, make_batch, randomize
) -> None:
    torch.manual_seed(0)
    policy = DexGraspPolicy(tiny_config())
    randomize(policy)  # adaLN-Zero layers pass no gradient back until they have weights
    batch = make_batch(policy.config)
    encoded: list[int] = []
    policy.head_encoder.register_forward_hook(lambda module, args, out: encoded.append(len(out)))
    dit_rows: list[int] = []
    policy.dit.register_forward_hook(lambda module, args, out: dit_rows.append(len(out)))
    torch.manual_seed(1)
    loss = policy.compute_loss(batch, noise_draws=3)
    loss.backward()
    assert encoded == [len(batch["state"])] and dit_rows == [3 * len(batch["state"])]
    assert torch.isfinite(loss) and policy.head_encoder.net[0].weight.grad.abs().sum() > 0
    torch.manual_seed(1)
    one = policy.compute_loss(batch, noise_draws=1)
    torch.manual_seed(1)
    assert float(one) == float(policy.compute_loss(batch))  # K = 1 is the draw training always made
