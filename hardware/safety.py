"""The safety layer: every action passes here before it reaches any robot.

Three rules, in order: reject malformed actions (not real numbers, non-finite, beyond
float32 or misshapen: the robot holds position and the caller gets `UnsafeActionError`),
clamp every joint to its limits, and limit how far any joint target moves in one tick.
"""

from __future__ import annotations

import numpy as np

from dexagent.hardware.errors import UnsafeActionError
from dexagent.hardware.types import Observation, Robot, RobotSpec


class SafetyLayer:
    """Turns a requested action into one the robot may execute, relative to the last command."""

    def __init__(self, spec: RobotSpec) -> None:
        self.spec = spec
        self._last: np.ndarray | None = None
        self.clamped_ticks = 0
        self.rate_limited_ticks = 0

    def reset(self, reference: np.ndarray) -> None:
        """Start rate limiting from `reference` (float32[J]), e.g. the measured state after homing."""
        self._last = np.clip(np.asarray(reference, dtype=np.float32), self.spec.lower, self.spec.upper)

    @property
    def hold_action(self) -> np.ndarray | None:
        """The last action that was let through (what 'hold position' means)."""
        return None if self._last is None else self._last.copy()

    def check(self, action: np.ndarray) -> np.ndarray:
        """Validate shape and finiteness; return the action as float32[J] (J joints of the spec) or raise."""
        try:
            raw = np.asarray(action)
        except (TypeError, ValueError, OverflowError) as error:  # ragged lists and the like
            message = f"action is not an array of numbers ({error}); holding position"
            raise UnsafeActionError(message) from None
        # Only real numbers: strings, objects (e.g. ints too big for a machine word), booleans and
        # complex numbers (whose imaginary part a cast would silently drop) are all refused.
        if raw.dtype.kind not in "iuf":
            raise UnsafeActionError(f"action must be real numbers, got {raw.dtype} values; holding position")
        array = raw.astype(np.float64)
        joints = len(self.spec.joint_names)
        if array.shape != (joints,):
            raise UnsafeActionError(f"action must have shape ({joints},), one per joint, got {array.shape}")
        bad = ~np.isfinite(array)
        if bad.any():
            names = [self.spec.joint_names[i] for i in np.flatnonzero(bad)]
            raise UnsafeActionError(f"action has NaN/inf for joints {names}; holding position")
        huge = np.abs(array) > np.finfo(np.float32).max  # finite here, infinite once float32
        if huge.any():
            names = [self.spec.joint_names[i] for i in np.flatnonzero(huge)]
            raise UnsafeActionError(f"action overflows float32 for joints {names}; holding position")
        return array.astype(np.float32)

    def filter(self, action: np.ndarray) -> np.ndarray:
        """The safe version of `action`: finite, inside the limits, within max_step of the last one."""
        requested = self.check(action)
        safe = np.clip(requested, self.spec.lower, self.spec.upper)
        if not np.array_equal(safe, requested):
            self.clamped_ticks += 1
        if self._last is not None:
            step = safe - self._last
            limited = self._last + np.clip(step, -self.spec.max_step, self.spec.max_step)
            if not np.array_equal(limited, safe):
                self.rate_limited_ticks += 1
            # Clip again: float rounding in last + step must not cross a limit.
            safe = np.clip(limited, self.spec.lower, self.spec.upper).astype(np.float32)
        self._last = safe.copy()
        return safe


class SafeRobot:
    """A `Robot` whose every action goes through a `SafetyLayer` first."""

    def __init__(self, robot: Robot, safety: SafetyLayer | None = None) -> None:
        self.robot = robot
        self.spec = robot.spec
        self.safety = safety or SafetyLayer(robot.spec)
        self._synced = False

    def observe(self) -> Observation:
        observation = self.robot.observe()
        if not self._synced:
            self.safety.reset(observation.state)
            self._synced = True
        return observation

    def act(self, action: np.ndarray) -> None:
        if not self._synced:
            self.observe()
        try:
            safe = self.safety.filter(action)
        except UnsafeActionError:
            hold = self.safety.hold_action
            if hold is not None:
                self.robot.act(hold)
            raise
        self.robot.act(safe)

    def home(self) -> None:
        self.robot.home()
        self._synced = False
        self.observe()

    def close(self) -> None:
        self.robot.close()

    def __enter__(self) -> SafeRobot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
