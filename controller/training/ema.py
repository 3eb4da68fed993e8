"""Exponential moving average of the trainable weights: what the checkpoint ships for inference."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class EMA:
    """Shadow copies of a model's trainable parameters, updated after every optimizer step.

    The decay warms up as in diffusers' / diffusion_policy's EMAModel,
    `1 - (1 + step) ** -power` capped at `max_decay`, so early weights are not frozen in
    by a 0.9999 average over a randomly initialised start. Frozen parameters (e.g. DINOv2)
    are not copied: they never change.
    """

    def __init__(self, model: nn.Module, *, max_decay: float = 0.9999, power: float = 0.75) -> None:
        self.max_decay = max_decay
        self.power = power
        self.step = 0
        self.shadow: dict[str, torch.Tensor] = {
            name: param.detach().clone().float()
            for name, param in model.named_parameters()
            if param.requires_grad
        }

    def decay(self) -> float:
        """The decay used by the next update."""
        return min(self.max_decay, 1.0 - (1.0 + self.step) ** -self.power)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the shadow weights toward the model's current weights."""
        decay = self.decay()
        for name, param in model.named_parameters():
            if name in self.shadow:
                self.shadow[name].lerp_(param.detach().float(), 1.0 - decay)
        self.step += 1

    @contextmanager
    def applied_to(self, model: nn.Module) -> Iterator[nn.Module]:
        """Temporarily load the EMA weights into `model` (to validate or save it), then restore."""
        params = dict(model.named_parameters())
        backup = {name: params[name].detach().clone() for name in self.shadow}
        with torch.no_grad():
            for name, value in self.shadow.items():
                params[name].copy_(value)
        try:
            yield model
        finally:
            with torch.no_grad():
                for name, value in backup.items():
                    params[name].copy_(value)

    def state_dict(self) -> dict[str, object]:
        return {
            "step": self.step,
            "max_decay": self.max_decay,
            "power": self.power,
            "shadow": dict(self.shadow),
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore from `state_dict()`; names must match this model's trainable parameters."""
        shadow = state["shadow"]
        assert isinstance(shadow, dict)
        missing = set(self.shadow) - set(shadow)
        extra = set(shadow) - set(self.shadow)
        if missing or extra:
            raise ValueError(
                f"EMA weights do not match the model: missing {sorted(missing)[:3]}, "
                f"unexpected {sorted(extra)[:3]}"
            )
        for name, value in shadow.items():
            if value.shape != self.shadow[name].shape:
                raise ValueError(
                    f"EMA weight {name}: shape {tuple(value.shape)}, "
                    f"model has {tuple(self.shadow[name].shape)}"
                )
            self.shadow[name] = value.detach().clone().float().to(self.shadow[name].device)
        self.step = int(state["step"])  # type: ignore[call-overload]
        self.max_decay = float(state["max_decay"])  # type: ignore[arg-type]
        self.power = float(state["power"])  # type: ignore[arg-type]
