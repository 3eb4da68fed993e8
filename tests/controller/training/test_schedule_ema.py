"""The learning-rate schedule and the EMA weights."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dexagent.controller.training.ema import EMA
from dexagent.controller.training.schedule import WarmupCosine, warmup_cosine_scheduler


def test_warmup_rises_linearly_then_cosine_decays_to_zero() -> None:
    schedule = WarmupCosine(warmup_steps=10, total_steps=110)
    assert schedule(0) == pytest.approx(0.1) and schedule(9) == pytest.approx(1.0)
    assert schedule(10) == pytest.approx(1.0)
    assert schedule(60) == pytest.approx(0.5)
    assert schedule(110) == pytest.approx(0.0, abs=1e-12) and schedule(500) == pytest.approx(0.0, abs=1e-12)


def test_scheduler_state_round_trips_with_its_schedule() -> None:
    optimizer = torch.optim.AdamW([nn.Parameter(torch.zeros(2))], lr=1.0)
    scheduler = warmup_cosine_scheduler(optimizer, 2, 10)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    state = scheduler.state_dict()
    fresh_optimizer = torch.optim.AdamW([nn.Parameter(torch.zeros(2))], lr=1.0)
    fresh = warmup_cosine_scheduler(fresh_optimizer, 7, 99)
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[0].total_steps == 10  # type: ignore[attr-defined]
    assert fresh.get_last_lr() == scheduler.get_last_lr()
    assert scheduler.get_last_lr()[0] == pytest.approx(0.5 * (1 + math.cos(math.pi * 3 / 8)))


def test_ema_follows_the_weights_with_a_warming_decay_and_restores_after_use() -> None:
    model = nn.Linear(2, 1)
    frozen = nn.Linear(2, 1).requires_grad_(False)
    model.add_module("frozen", frozen)
    ema = EMA(model, max_decay=0.9, power=1.0)
    assert set(ema.shadow) == {"weight", "bias"}  # frozen weights never change: not copied
    start = model.weight.detach().clone()
    assert ema.decay() == 0.0  # the first update copies the weights
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    assert torch.allclose(ema.shadow["weight"], start + 1.0)
    assert ema.decay() == pytest.approx(0.5)
    with torch.no_grad():
        model.weight.add_(2.0)
    ema.update(model)
    assert torch.allclose(ema.shadow["weight"], start + 2.0)  # halfway from +1 to +3
    raw = model.weight.detach().clone()
    with ema.applied_to(model):
        assert torch.allclose(model.weight, start + 2.0)
    assert torch.equal(model.weight, raw)


def test_ema_state_must_match_the_model() -> None:
    ema = EMA(nn.Linear(2, 1))
    other = EMA(nn.Linear(3, 1))
    with pytest.raises(ValueError, match="shape"):
        ema.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="missing"):
        ema.load_state_dict({**ema.state_dict(), "shadow": {}})
