"""The normaliser maps data to [-1, 1] and back, and survives JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from dexagent.controller.normalizer import Normalizer, NormalizerError


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    states = rng.uniform(-2, 3, size=(100, 13)).astype(np.float32)
    actions = rng.uniform(-1, 0.5, size=(100, 13)).astype(np.float32)
    actions[:, 12] = 0.7  # a joint that never moves
    return states, actions


def test_actions_round_trip_and_span_minus_one_to_one() -> None:
    states, actions = _data()
    normalizer = Normalizer.from_data(states, actions)
    normalized = normalizer.normalize_action(torch.from_numpy(actions))
    assert normalized[:, :12].min().item() == pytest.approx(-1.0, abs=1e-5)
    assert normalized[:, :12].max().item() == pytest.approx(1.0, abs=1e-5)
    restored = normalizer.unnormalize_action(normalized)
    np.testing.assert_allclose(restored.numpy(), actions, atol=1e-5)
    state_norm = normalizer.normalize_state(torch.from_numpy(states))
    assert state_norm.abs().max().item() <= 1.0 + 1e-5


def test_constant_dimension_maps_to_minus_one_and_back_without_nan() -> None:
    states, actions = _data()
    normalizer = Normalizer.from_data(states, actions)
    normalized = normalizer.normalize_action(torch.from_numpy(actions))
    assert torch.isfinite(normalized).all()
    assert normalizer.unnormalize_action(normalized)[:, 12].allclose(torch.tensor(0.7))


def test_json_round_trip_is_exact() -> None:
    normalizer = Normalizer.from_data(*_data(1))
    restored = Normalizer.from_dict(json.loads(json.dumps(normalizer.to_dict())))
    for name in ("state_min", "state_max", "action_min", "action_max"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(normalizer, name))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("action_max"), "missing fields"),
        (
            lambda d: d.update(state_min=[0.0] * 12),
            r"state_min \(12,\) and state_max \(13,\) differ in shape",
        ),
        (lambda d: d.update(action_min=[float("nan")] * 13), "NaN"),
        (lambda d: d.update(state_min=[9.0] * 13), "state_min is above state_max"),
    ],
)
def test_bad_dict_raises_a_named_error(mutate, message: str) -> None:
    data = Normalizer.from_data(*_data()).to_dict()
    mutate(data)
    with pytest.raises(NormalizerError, match=message):
        Normalizer.from_dict(data, where="ckpt/normalizer.json")


def test_per_offset_ranges_scale_each_chunk_offset_on_its_own() -> None:
    states, _ = _data()
    low = np.stack([np.full(13, -0.1 * (k + 1), np.float32) for k in range(4)])  # (H=4, 13)
    normalizer = Normalizer(states.min(0), states.max(0), low, -low)
    assert normalizer.horizon == 4
    chunk = torch.from_numpy(np.broadcast_to(-low, (2, 4, 13)).copy())  # each offset at its own top
    assert torch.allclose(normalizer.normalize_action(chunk), torch.ones(2, 4, 13))
    np.testing.assert_allclose(normalizer.unnormalize_action(torch.ones(2, 4, 13)).numpy(), chunk.numpy())
    envelope_low, envelope_high = normalizer.action_envelope
    np.testing.assert_allclose(envelope_low, np.full(13, -0.4), rtol=1e-6)
    np.testing.assert_allclose(envelope_high, np.full(13, 0.4), rtol=1e-6)
    restored = Normalizer.from_dict(json.loads(json.dumps(normalizer.to_dict())))
    np.testing.assert_array_equal(restored.action_min, normalizer.action_min)
    assert Normalizer.from_data(*_data()).horizon is None


def test_misshapen_per_offset_ranges_are_named_errors() -> None:
    data = Normalizer.from_data(*_data()).to_dict()
    data["action_min"] = [[0.0] * 13] * 4
    with pytest.raises(NormalizerError, match=r"action_min .*\(4, 13\) and action_max .*\(13,\) differ"):
        Normalizer.from_dict(data, where="ckpt/normalizer.json")
    data["action_min"] = [[[0.0] * 13] * 4]
    with pytest.raises(
        NormalizerError, match=r"normalizer.json: action_min must be one value per joint or H rows"
    ):
        Normalizer.from_dict(data, where="ckpt/normalizer.json")
