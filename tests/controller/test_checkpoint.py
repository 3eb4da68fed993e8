"""Checkpoints: save -> load reproduces actions; broken files give CheckpointError naming them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dexagent.controller.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_training_state,
    save_checkpoint,
)
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy

torch.set_num_threads(1)


@pytest.fixture
def saved(tmp_path: Path, tiny_config, make_batch, randomize) -> tuple[Path, DexGraspPolicy]:
    torch.manual_seed(0)
    config = tiny_config()
    batch = make_batch(config, batch_size=16)
    normalizer = Normalizer.from_data(batch["state"].numpy(), batch["action"].reshape(-1, 13).numpy())
    policy = DexGraspPolicy(config, normalizer)
    randomize(policy)
    directory = save_checkpoint(tmp_path / "ckpt", policy)
    return directory, policy


def test_save_then_load_gives_identical_actions_for_the_same_noise(saved, make_batch) -> None:
    directory, policy = saved
    loaded = load_checkpoint(directory)
    assert loaded.config == policy.config
    batch = make_batch(policy.config, batch_size=2, seed=5)
    before = policy.predict_chunk(batch, generator=torch.Generator().manual_seed(11))
    after = loaded.predict_chunk(batch, generator=torch.Generator().manual_seed(11))
    assert torch.equal(before, after)
    np.testing.assert_array_equal(loaded.normalizer.action_max, policy.normalizer.action_max)


def test_a_frozen_pretrained_encoder_is_named_by_the_checkpoint_not_copied(
    tmp_path: Path, tiny_dinov2_dir: Path, dinov2_encoder_config, tiny_config, make_batch, randomize
) -> None:
    import shutil

    from safetensors.torch import load_file

    encoder = dinov2_encoder_config(tiny_dinov2_dir)
    policy = DexGraspPolicy(tiny_config(head_encoder=encoder))
    randomize(policy)
    directory = save_checkpoint(tmp_path / "ckpt", policy)
    stored = load_file(str(directory / "model.safetensors"))
    assert not any(key.startswith("head_encoder.") for key in stored)  # DINOv2 comes from its source
    assert any(key.startswith("wrist_encoder.") for key in stored)  # the trainable CNN is stored
    loaded = load_checkpoint(directory)
    batch = make_batch(policy.config, batch_size=1)
    generator = torch.Generator().manual_seed(1)
    before = policy.predict_chunk(batch, generator)
    assert torch.equal(before, loaded.predict_chunk(batch, generator.manual_seed(1)))
    shutil.rmtree(tiny_dinov2_dir)
    with pytest.raises(CheckpointError, match=r"ckpt: could not load DINOv2 from '.*tiny-dinov2'"):
        load_checkpoint(directory)


def test_training_state_round_trips_optimizer_rng_and_nesting(saved) -> None:
    directory, policy = saved
    optimizer = torch.optim.AdamW(policy.parameters())
    # The optimizer needs one step to have per-parameter state worth saving.
    for p in policy.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()
    state = {
        "step": 12,
        "optimizer": optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.default_rng(3).bit_generator.state,
        "legacy_rng": np.random.RandomState(4).get_state(),
    }
    save_checkpoint(directory, policy, training_state=state)
    restored = load_training_state(directory)
    assert restored is not None and restored["step"] == 12
    assert torch.equal(restored["torch_rng"], state["torch_rng"])
    assert restored["numpy_rng"] == state["numpy_rng"]
    legacy = np.random.RandomState()
    legacy.set_state(restored["legacy_rng"])
    assert legacy.randint(1 << 30) == np.random.RandomState(4).randint(1 << 30)
    fresh = torch.optim.AdamW(policy.parameters())
    fresh.load_state_dict(restored["optimizer"])
    exp_avg = optimizer.state_dict()["state"][0]["exp_avg"]
    torch.testing.assert_close(fresh.state_dict()["state"][0]["exp_avg"], exp_avg)


def test_checkpoint_without_training_state_has_none(saved) -> None:
    assert load_training_state(saved[0]) is None


def _corrupt_weights(directory: Path) -> None:
    (directory / "model.safetensors").write_bytes(b"\x00garbage" * 10)


def _truncate_weights(directory: Path) -> None:
    path = directory / "model.safetensors"
    path.write_bytes(path.read_bytes()[:200])


def _bad_config_json(directory: Path) -> None:
    (directory / "config.json").write_text('{"horizon": 8,,}')


def _mismatched_config(directory: Path) -> None:
    data = json.loads((directory / "config.json").read_text())
    data["dit"]["width"] = 48
    (directory / "config.json").write_text(json.dumps(data))


def _bad_normalizer(directory: Path) -> None:
    (directory / "normalizer.json").write_text(json.dumps({"state_min": [0] * 13}))


def _missing_weights(directory: Path) -> None:
    (directory / "model.safetensors").unlink()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_corrupt_weights, r"model.safetensors: not a readable safetensors file"),
        (_truncate_weights, r"model.safetensors: not a readable safetensors file"),
        (_bad_config_json, r"config.json: line 1: not valid JSON"),
        (_mismatched_config, r"model.safetensors: weights do not match .*config.json.*shape mismatches"),
        (_bad_normalizer, r"normalizer.json: missing fields"),
        (_missing_weights, r"model.safetensors: missing"),
    ],
)
def test_damaged_checkpoint_raises_checkpoint_error_naming_the_file(saved, damage, message: str) -> None:
    directory, _ = saved
    damage(directory)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(directory)


def test_missing_directory_is_a_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such checkpoint directory"):
        load_checkpoint(tmp_path / "absent")


def test_per_offset_ranges_for_another_horizon_are_a_clear_error(tmp_path: Path, tiny_config) -> None:
    config = tiny_config(action_range="per_offset")
    ones = np.ones((config.horizon, 13), np.float32)
    save_checkpoint(tmp_path / "ckpt", DexGraspPolicy(config, Normalizer(-ones[0], ones[0], -ones, ones)))
    assert load_checkpoint(tmp_path / "ckpt").normalizer.horizon == config.horizon
    longer = tiny_config(action_range="per_offset", horizon=12)
    (tmp_path / "ckpt" / "config.json").write_text(longer.to_json())
    with pytest.raises(CheckpointError, match=r"normalizer.json: action ranges for 8 chunk offsets, .* 12"):
        load_checkpoint(tmp_path / "ckpt")


def test_a_checkpoint_records_its_joint_counts_and_they_must_match_its_normaliser(saved) -> None:
    directory, policy = saved
    config = json.loads((directory / "config.json").read_text())
    assert (config["state_dim"], config["action_dim"]) == (13, 13)
    del config["state_dim"], config["action_dim"]  # as written before the sizes were recorded
    (directory / "config.json").write_text(json.dumps(config))
    assert load_checkpoint(directory).config == policy.config  # the normaliser's 13 values per vector
    (directory / "config.json").write_text(json.dumps({**config, "state_dim": 9, "action_dim": 9}))
    with pytest.raises(
        CheckpointError, match="says 9-D states and 9-D actions, .*normalizer.json has ranges for 13"
    ):
        load_checkpoint(directory)
