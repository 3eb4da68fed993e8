"""Encoders: DINOv2 through `from_pretrained` of a local folder, frozen features, clear load errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from dexagent.controller.encoders import Dinov2Encoder, EncoderError
from dexagent.controller.policy import DexGraspPolicy

torch.set_num_threads(1)


def _dinov2_policy(tiny_config, encoder) -> DexGraspPolicy:
    config = tiny_config(head_encoder=encoder, wrist_encoder=replace(encoder, pool=2))
    torch.manual_seed(0)
    return DexGraspPolicy(config)


def test_dinov2_loads_the_saved_weights_through_from_pretrained(
    tiny_dinov2_dir: Path, dinov2_encoder_config
) -> None:
    from transformers import Dinov2Model

    encoder = Dinov2Encoder(dinov2_encoder_config(tiny_dinov2_dir), image_size=32)
    reference = Dinov2Model.from_pretrained(tiny_dinov2_dir)
    for name, tensor in reference.state_dict().items():
        torch.testing.assert_close(encoder.model.state_dict()[name], tensor)
    tokens = encoder(torch.rand(2, 3, 32, 32))
    assert tokens.shape == (2, 16, 24)  # (32 / 8)^2 patch tokens, CLS dropped


def test_frozen_dinov2_gets_no_gradients_and_stays_in_eval(
    tiny_dinov2_dir: Path, dinov2_encoder_config, tiny_config, make_batch
) -> None:
    policy = _dinov2_policy(tiny_config, dinov2_encoder_config(tiny_dinov2_dir))
    policy.train()
    assert not policy.head_encoder.training
    policy.compute_loss(make_batch(policy.config)).backward()
    assert all(p.grad is None for p in policy.head_encoder.parameters())
    assert any(p.grad is not None for p in policy.dit.parameters())
    trainable, frozen = policy.parameter_counts()["head encoder"]
    assert trainable == 0 and frozen > 0


def test_cached_frozen_features_give_the_same_loss_and_actions(
    tiny_dinov2_dir: Path, dinov2_encoder_config, tiny_config, make_batch, randomize
) -> None:
    policy = _dinov2_policy(tiny_config, dinov2_encoder_config(tiny_dinov2_dir))
    randomize(policy)
    batch = make_batch(policy.config)
    features = policy.encode_frozen(batch["head_rgb"], batch["wrist_rgb"])
    assert features["head_features"].shape == (4, 16, 24)
    assert features["wrist_features"].shape == (4, 4, 24)
    cached = {k: v for k, v in batch.items() if not k.endswith("_rgb")} | features
    torch.manual_seed(3)
    loss_rgb = policy.compute_loss(batch)
    torch.manual_seed(3)
    loss_cached = policy.compute_loss(cached)
    torch.testing.assert_close(loss_rgb, loss_cached)
    a = policy.predict_chunk(batch, generator=torch.Generator().manual_seed(0))
    b = policy.predict_chunk(cached, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b)


def test_missing_folder_is_an_encoder_error_naming_the_source(tmp_path: Path, dinov2_encoder_config) -> None:
    with pytest.raises(EncoderError, match="could not load DINOv2 from .*nowhere"):
        Dinov2Encoder(dinov2_encoder_config(tmp_path / "nowhere"), image_size=32)


def test_architecture_mismatch_is_an_encoder_error(tiny_dinov2_dir: Path, dinov2_encoder_config) -> None:
    wrong = replace(dinov2_encoder_config(tiny_dinov2_dir), width=32)
    with pytest.raises(EncoderError, match="hidden_size: model has 24, config says 32"):
        Dinov2Encoder(wrong, image_size=32)


def test_paper_config_builds_on_the_meta_device_without_weights() -> None:
    from dexagent.controller.config import get_config

    with torch.device("meta"):
        policy = DexGraspPolicy(get_config("paper").for_joints(13), load_pretrained=False)
    counts = policy.parameter_counts()
    assert counts["head encoder"] == (0, 86_580_480)  # DINOv2 ViT-B/14
    assert counts["wrist encoder"] == (0, 304_368_640)  # DINOv2 ViT-L/14


def test_instance_input_norm_makes_tokens_blind_to_a_colour_cast() -> None:
    from dexagent.controller.config import EncoderConfig
    from dexagent.controller.encoders import build_encoder

    torch.manual_seed(0)
    rgb = torch.rand(2, 3, 32, 32) * 0.8 + 0.1
    # A dim, yellowish light: every channel scaled and shifted differently.
    gain, offset = torch.tensor([0.9, 0.7, 0.3]), torch.tensor([0.05, 0.02, 0.0])
    cast = rgb * gain.view(1, 3, 1, 1) + offset.view(1, 3, 1, 1)
    tokens = {}
    for norm in ("imagenet", "instance"):
        torch.manual_seed(1)
        encoder = build_encoder(EncoderConfig(kind="cnn", input_norm=norm), image_size=32).eval()
        with torch.no_grad():
            tokens[norm] = (encoder(rgb), encoder(cast))
    assert torch.allclose(*tokens["instance"], atol=1e-4)
    plain, shifted = tokens["imagenet"]
    assert (plain - shifted).abs().max() > 0.1


def test_instance_input_norm_keeps_a_blank_image_finite() -> None:
    from dexagent.controller.config import EncoderConfig
    from dexagent.controller.encoders import build_encoder

    encoder = build_encoder(EncoderConfig(kind="cnn", input_norm="instance"), image_size=32).eval()
    with torch.no_grad():
        tokens = encoder(torch.full((1, 3, 32, 32), 0.5))
    assert torch.isfinite(tokens).all()
