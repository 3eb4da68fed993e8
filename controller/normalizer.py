"""Maps states and actions to [-1, 1] by dataset min/max; stored as JSON beside the weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from dexagent.hardware import ACTION_DIM

# A joint that never moved in the data (e.g. a locked finger) would divide by zero; it maps
# to 0 instead and un-normalises back to its constant value.
_MIN_RANGE = 1e-6


class NormalizerError(ValueError):
    """Normaliser statistics are missing, misshapen or not finite."""


def _as_vector(value: Any, name: str, where: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise NormalizerError(f"{where}: {name} is not a list of numbers") from None
    if array.shape != (ACTION_DIM,):
        raise NormalizerError(f"{where}: {name} must have {ACTION_DIM} values, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise NormalizerError(f"{where}: {name} has NaN/inf values")
    return array


@dataclass(frozen=True)
class Normalizer:
    """Per-dimension min/max of states and actions, each float32[13]."""

    state_min: np.ndarray
    state_max: np.ndarray
    action_min: np.ndarray
    action_max: np.ndarray

    def __post_init__(self) -> None:
        for name in ("state_min", "state_max", "action_min", "action_max"):
            object.__setattr__(self, name, _as_vector(getattr(self, name), name, "Normalizer"))
        for kind in ("state", "action"):
            if np.any(getattr(self, f"{kind}_min") > getattr(self, f"{kind}_max")):
                raise NormalizerError(f"Normalizer: {kind}_min is above {kind}_max for some dimension")

    @classmethod
    def from_data(cls, states: np.ndarray, actions: np.ndarray) -> Normalizer:
        """Statistics of states (N, 13) and actions (M, 13) from a dataset (the actions being what
        the policy predicts: joint targets, or targets relative to the state)."""
        states = np.asarray(states, dtype=np.float32).reshape(-1, ACTION_DIM)
        actions = np.asarray(actions, dtype=np.float32).reshape(-1, ACTION_DIM)
        if len(states) == 0 or len(actions) == 0:
            raise NormalizerError("Normalizer.from_data needs at least one state and one action")
        return cls(states.min(0), states.max(0), actions.min(0), actions.max(0))

    @classmethod
    def from_limits(cls, lower: np.ndarray, upper: np.ndarray) -> Normalizer:
        """Statistics from joint limits (the paper normalises by limits)."""
        return cls(lower, upper, lower, upper)

    @classmethod
    def identity(cls) -> Normalizer:
        """Maps [-1, 1] to itself: for untrained policies (benchmarks, tests)."""
        ones = np.ones(ACTION_DIM, dtype=np.float32)
        return cls(-ones, ones, -ones, ones)

    def _scale(
        self, low: np.ndarray, high: np.ndarray, like: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        low_t = torch.as_tensor(low, device=like.device, dtype=like.dtype)
        span = torch.as_tensor(np.maximum(high - low, _MIN_RANGE), device=like.device, dtype=like.dtype)
        return low_t, span

    def normalize_state(self, state: torch.Tensor) -> torch.Tensor:
        """Raw state (..., 13) -> (..., 13) in [-1, 1] over the data range."""
        low, span = self._scale(self.state_min, self.state_max, state)
        return (state - low) / span * 2 - 1

    def normalize_action(self, action: torch.Tensor) -> torch.Tensor:
        low, span = self._scale(self.action_min, self.action_max, action)
        return (action - low) / span * 2 - 1

    def unnormalize_action(self, action: torch.Tensor) -> torch.Tensor:
        """(..., 13) in [-1, 1] -> raw units."""
        low, span = self._scale(self.action_min, self.action_max, action)
        return (action + 1) / 2 * span + low

    def to_dict(self) -> dict[str, list[float]]:
        return {
            "state_min": self.state_min.tolist(),
            "state_max": self.state_max.tolist(),
            "action_min": self.action_min.tolist(),
            "action_max": self.action_max.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "normalizer") -> Normalizer:
        """Inverse of `to_dict`; bad content raises NormalizerError naming `where` and the field."""
        if not isinstance(data, dict):
            raise NormalizerError(f"{where}: expected a JSON object, got {type(data).__name__}")
        fields = ("state_min", "state_max", "action_min", "action_max")
        missing = [name for name in fields if name not in data]
        if missing:
            raise NormalizerError(f"{where}: missing fields {missing}")
        vectors = [_as_vector(data[name], name, where) for name in fields]
        try:
            return cls(*vectors)
        except NormalizerError as error:
            raise NormalizerError(f"{where}: {error}") from None
