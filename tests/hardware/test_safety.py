"""The safety layer: no action ever leaves the limits or moves a joint further than max_step."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dexagent.hardware import Observation, RobotSpec, SafeRobot, SafetyLayer
from dexagent.hardware.errors import UnsafeActionError

ACTION_DIM = 13  # the sim robot's joints: 7 arm + 6 hand

LOWER = np.array([-3.1, -2.268, -3.1, -2.355, -3.1, -2.233, -6.28] + [0.0] * 6, dtype=np.float32)
UPPER = -LOWER
UPPER[7:] = 1.0
SPEC = RobotSpec(
    joint_names=tuple(f"j{i}" for i in range(ACTION_DIM)),
    lower=LOWER,
    upper=UPPER,
    home=np.zeros(ACTION_DIM, dtype=np.float32) + np.array([0] * 7 + [1] * 6, dtype=np.float32),
)

any_floats = st.floats(allow_nan=True, allow_infinity=True, width=32)
finite_floats = st.floats(min_value=-1e6, max_value=1e6, width=32)


class RecordingRobot:
    """Stands in for the physical robot at the outermost boundary: records what it was sent."""

    spec = SPEC

    def __init__(self) -> None:
        self.sent: list[np.ndarray] = []

    def observe(self) -> Observation:
        rgb = np.zeros((4, 4, 3), np.uint8)
        return Observation(rgb, rgb, SPEC.home.copy(), 0.0)

    def act(self, action: np.ndarray) -> None:
        self.sent.append(np.array(action))

    def home(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> RecordingRobot:
        return self

    def __exit__(self, *exc: object) -> None: ...


@settings(max_examples=300, deadline=None)
@given(st.lists(arrays(np.float32, ACTION_DIM, elements=finite_floats), min_size=1, max_size=20))
def test_filtered_actions_stay_inside_limits_and_step_bounds(actions: list[np.ndarray]) -> None:
    layer = SafetyLayer(SPEC)
    layer.reset(SPEC.home)
    previous = SPEC.home
    for action in actions:
        safe = layer.filter(action)
        assert safe.dtype == np.float32
        assert np.all(safe >= SPEC.lower) and np.all(safe <= SPEC.upper)
        assert np.all(np.abs(safe - previous) <= SPEC.max_step + 1e-6)
        previous = safe


@settings(max_examples=200, deadline=None)
@given(arrays(np.float32, ACTION_DIM, elements=any_floats))
def test_non_finite_actions_are_rejected_and_the_robot_holds(action: np.ndarray) -> None:
    robot = RecordingRobot()
    safe_robot = SafeRobot(robot)
    if np.all(np.isfinite(action)):
        safe_robot.act(action)
        assert np.all(robot.sent[-1] >= SPEC.lower) and np.all(robot.sent[-1] <= SPEC.upper)
    else:
        with pytest.raises(UnsafeActionError, match="NaN/inf"):
            safe_robot.act(action)
        np.testing.assert_array_equal(robot.sent[-1], SPEC.home)


def test_far_target_is_approached_in_bounded_steps() -> None:
    layer = SafetyLayer(SPEC)
    layer.reset(SPEC.home)
    target = SPEC.upper.copy()
    outputs = [layer.filter(target) for _ in range(60)]
    assert np.allclose(outputs[-1], target)
    assert not np.allclose(outputs[0], target)
    assert layer.rate_limited_ticks > 0


def test_out_of_limit_action_is_clamped() -> None:
    layer = SafetyLayer(SPEC)
    action = SPEC.upper + 5.0
    np.testing.assert_array_equal(layer.filter(action), SPEC.upper)
    assert layer.clamped_ticks == 1


def test_wrong_shape_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(UnsafeActionError, match=r"shape \(13,\)"):
        SafetyLayer(SPEC).filter(np.zeros(7))


MALFORMED_ACTIONS = {
    "strings": ["0.1"] * ACTION_DIM,
    "a Python int beyond any float": [10**400] + [0] * (ACTION_DIM - 1),
    "a float beyond float32": [1e300] + [0.0] * (ACTION_DIM - 1),
    "complex numbers": np.full(ACTION_DIM, 0.1 + 2j),
    "booleans": [True] * ACTION_DIM,
    "objects": [object()] * ACTION_DIM,
    "a ragged list": [[0.0, 1.0], [0.0]] + [0.0] * (ACTION_DIM - 2),
    "None": None,
}


@pytest.mark.parametrize("action", MALFORMED_ACTIONS.values(), ids=MALFORMED_ACTIONS.keys())
def test_every_malformed_action_is_refused_by_the_safety_layer_and_holds(
    action: object, request: pytest.FixtureRequest, fault_row: Callable[..., None]
) -> None:
    robot = RecordingRobot()
    safe_robot = SafeRobot(robot)
    safe_robot.act(SPEC.home + 0.01)
    with pytest.raises(UnsafeActionError, match="holding position"):
        safe_robot.act(action)  # type: ignore[arg-type]
    assert len(robot.sent) == 2
    np.testing.assert_array_equal(robot.sent[1], robot.sent[0])  # the hold: the last safe command
    case = request.node.callspec.id
    fault_row(f"action with {case}: `UnsafeActionError`, hold sent", "-", None, "none", "none")
