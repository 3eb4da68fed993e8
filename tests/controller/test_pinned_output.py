"""The policy's output, pinned: a seeded tiny policy samples one chunk that must match a stored one.

Every other policy test checks shapes, equivalences and learning; this one catches any silent
change of what the network and the DDIM sampler compute (an init, a layer order, a scheduler
setting, a normaliser). When such a change is intended, regenerate the artifact and commit it:

    DEXAGENT_REGENERATE_PINNED=1 python -m pytest tests/controller/test_pinned_output.py
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy

ARTIFACT = Path(__file__).parent / "artifacts" / "pinned_chunk.safetensors"
REGENERATE = "DEXAGENT_REGENERATE_PINNED"
ATOL = 1e-4  # raw action units (rad for the arm); float32 sums in another order stay far below

# Joint ranges of a made-up robot, so the pinned chunk also goes through the normaliser.
LOWER = np.linspace(-3.0, -0.5, 13, dtype=np.float32)
UPPER = np.linspace(0.5, 3.0, 13, dtype=np.float32)


def _pinned_chunk(tiny_config, make_batch, randomize) -> torch.Tensor:
    """One chunk float32[1, H, 13] from the tiny test policy, seeded init, observation and noise."""
    torch.manual_seed(0)
    config = tiny_config()
    policy = DexGraspPolicy(config, Normalizer.from_limits(LOWER, UPPER))
    randomize(policy, 0)  # adaLN-Zero layers start at zero: the output would ignore the observation
    batch = make_batch(config, batch_size=1, seed=0)
    del batch["action"]
    return policy.predict_chunk(batch, generator=torch.Generator().manual_seed(0))


def test_a_seeded_tiny_policy_samples_the_pinned_chunk(tiny_config, make_batch, randomize) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one reduction order, run after run
    try:
        chunk = _pinned_chunk(tiny_config, make_batch, randomize)
        again = _pinned_chunk(tiny_config, make_batch, randomize)
    finally:
        torch.set_num_threads(threads)
    torch.testing.assert_close(chunk, again, rtol=0, atol=0)  # deterministic in one process
    if os.environ.get(REGENERATE) == "1":
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        save_file({"chunk": chunk.contiguous()}, str(ARTIFACT))
        pytest.skip(f"{REGENERATE}=1: rewrote {ARTIFACT} ({ARTIFACT.stat().st_size} bytes); commit it")
    assert ARTIFACT.is_file(), f"{ARTIFACT} is missing: run with {REGENERATE}=1 to write it"
    pinned = load_file(str(ARTIFACT))["chunk"]
    assert chunk.shape == pinned.shape == (1, tiny_config().horizon, 13)
    torch.testing.assert_close(chunk, pinned, rtol=0, atol=ATOL)
    # Not a trivial pin: the chunk varies over time and across joints.
    assert chunk.std(dim=1).min() > 0.1 and chunk.std(dim=2).min() > 0.1
