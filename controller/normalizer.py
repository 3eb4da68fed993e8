"""Maps states and actions to [-1, 1] by dataset ranges; stored as JSON beside the weights.

The vectors' lengths are the robot's: states (S,), actions (A,) or per chunk offset and dimension
(H, A), S = A = the joints of the embodiment the data came from (13 on the sim). A chunk's
first action moves a joint a few hundredths of a radian, its last one up to radians, and one
range for all offsets spends the sampler's precision on the far end of the chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

# A joint that never moved in the data (e.g. a locked finger) would divide by zero; it maps
# to 0 instead and un-normalises back to its constant value.
_MIN_RANGE = 1e-6


class NormalizerError(ValueError):
    """Normaliser statistics are missing, misshapen or not finite."""


def _as_vector(value: Any, name: str, where: str, per_offset: bool = False) -> np.ndarray:
    """float32 (D,), or with `per_offset` also (H, D), D >= 1."""
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise NormalizerError(f"{where}: {name} is not a list of numbers") from None
    ok = array.ndim == 1 or (per_offset and array.ndim == 2)
    if not ok or 0 in array.shape:
        wanted = "one value per joint" + (" or H rows of them" if per_offset else "")
        raise NormalizerError(f"{where}: {name} must be {wanted}, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise NormalizerError(f"{where}: {name} has NaN/inf values")
    return array


@dataclass(frozen=True)
class Normalizer:
    """Per-dimension ranges of states, float32[S], and of actions, float32[A] or [H, A]."""

    state_min: np.ndarray
    state_max: np.ndarray
    action_min: np.ndarray
    action_max: np.ndarray

    def __post_init__(self) -> None:
        for name in ("state_min", "state_max", "action_min", "action_max"):
            vector = _as_vector(getattr(self, name), name, "Normalizer", per_offset=name.startswith("action"))
            object.__setattr__(self, name, vector)
        for kind in ("state", "action"):
            low, high = getattr(self, f"{kind}_min"), getattr(self, f"{kind}_max")
            if low.shape != high.shape:
                raise NormalizerError(
                    f"Normalizer: {kind}_min {low.shape} and {kind}_max {high.shape} differ in shape"
                )
        for kind in ("state", "action"):
            if np.any(getattr(self, f"{kind}_min") > getattr(self, f"{kind}_max")):
                raise NormalizerError(f"Normalizer: {kind}_min is above {kind}_max for some dimension")

    @classmethod
    def from_data(cls, states: np.ndarray, actions: np.ndarray) -> Normalizer:
        """Statistics of states (N, S) and actions (M, A) from a dataset (the actions being what
        the policy predicts: joint targets, or targets relative to the state)."""
        states = np.asarray(states, dtype=np.float32)
        actions = np.asarray(actions, dtype=np.float32)
        states, actions = states.reshape(-1, states.shape[-1]), actions.reshape(-1, actions.shape[-1])
        if len(states) == 0 or len(actions) == 0:
            raise NormalizerError("Normalizer.from_data needs at least one state and one action")
        return cls(states.min(0), states.max(0), actions.min(0), actions.max(0))

    @property
    def state_dim(self) -> int:
        """S: the values of a state, one per joint of the robot the statistics came from."""
        return int(self.state_min.shape[-1])

    @property
    def action_dim(self) -> int:
        """A: the values of an action, one per joint of the robot the statistics came from."""
        return int(self.action_min.shape[-1])

    @property
    def horizon(self) -> int | None:
        """H of per-offset action ranges; None for one range per dimension."""
        return self.action_min.shape[0] if self.action_min.ndim == 2 else None

    @property
    def action_envelope(self) -> tuple[np.ndarray, np.ndarray]:
        """float32 (A,) lowest and highest action over all chunk offsets."""
        dims = self.action_dim
        return self.action_min.reshape(-1, dims).min(0), self.action_max.reshape(-1, dims).max(0)

    def outside(self, other: Normalizer, tolerance: float = 0.0) -> np.ndarray:
        """bool (A,): the dimensions where `other`'s state or action ranges (any chunk offset) reach
        beyond this one's by more than `tolerance` of this one's span (states and actions are both
        one value per joint). Ranges of another shape count as outside everywhere."""
        dims = self.action_dim
        same = other.action_min.shape == self.action_min.shape and other.state_dim == self.state_dim == dims
        if not same:
            return np.ones(dims, dtype=bool)
        outside = np.zeros(dims, dtype=bool)
        for low, high, other_low, other_high in (
            (self.state_min, self.state_max, other.state_min, other.state_max),
            (self.action_min, self.action_max, other.action_min, other.action_max),
        ):
            slack = tolerance * np.maximum(high - low, _MIN_RANGE)
            beyond = (other_low < low - slack) | (other_high > high + slack)
            outside |= beyond.reshape(-1, dims).any(0)
        return outside

    def union(self, other: Normalizer) -> Normalizer:
        """Ranges covering both (action ranges of the same shape)."""
        return Normalizer(
            np.minimum(self.state_min, other.state_min),
            np.maximum(self.state_max, other.state_max),
            np.minimum(self.action_min, other.action_min),
            np.maximum(self.action_max, other.action_max),
        )

    @classmethod
    def from_limits(cls, lower: np.ndarray, upper: np.ndarray) -> Normalizer:
        """Statistics from joint limits (the paper normalises by limits)."""
        return cls(lower, upper, lower, upper)

    @classmethod
    def identity(cls, state_dim: int, action_dim: int) -> Normalizer:
        """Maps [-1, 1] to itself: for untrained policies (benchmarks, tests)."""
        states, actions = np.ones(state_dim, dtype=np.float32), np.ones(action_dim, dtype=np.float32)
        return cls(-states, states, -actions, actions)

    def _scale(
        self, low: np.ndarray, high: np.ndarray, like: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        low_t = torch.as_tensor(low, device=like.device, dtype=like.dtype)
        span = torch.as_tensor(np.maximum(high - low, _MIN_RANGE), device=like.device, dtype=like.dtype)
        return low_t, span

    def normalize_state(self, state: torch.Tensor) -> torch.Tensor:
        """Raw state (..., S) -> (..., S) in [-1, 1] over the data range."""
        low, span = self._scale(self.state_min, self.state_max, state)
        return (state - low) / span * 2 - 1

    def normalize_action(self, action: torch.Tensor) -> torch.Tensor:
        """Raw chunk (..., H, A) (or (..., A) with per-dimension ranges) -> normalised."""
        low, span = self._scale(self.action_min, self.action_max, action)
        return (action - low) / span * 2 - 1

    def unnormalize_action(self, action: torch.Tensor) -> torch.Tensor:
        """Normalised (..., H, A) or (..., A) -> raw units."""
        low, span = self._scale(self.action_min, self.action_max, action)
        return (action + 1) / 2 * span + low

    def to_dict(self) -> dict[str, list[Any]]:
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
        vectors = [
            _as_vector(data[name], name, where, per_offset=name.startswith("action")) for name in fields
        ]
        try:
            return cls(*vectors)
        except NormalizerError as error:
            raise NormalizerError(f"{where}: {error}") from None
