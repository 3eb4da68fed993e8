"""Shared values: which object a box points at, when the hand counts as closed, a robot's spec."""

from __future__ import annotations

import numpy as np
import pytest

from dexagent.hardware import HAND_CLOSED_BELOW, Box, RobotSpec, hand_closed, object_under_box


def _segmentation() -> np.ndarray:
    segmentation = np.full((20, 20), -1, dtype=np.int32)
    segmentation[2:6, 2:6] = 0
    segmentation[4:12, 4:12] = 1
    return segmentation


def test_the_object_under_a_box_is_the_one_filling_it_most() -> None:
    segmentation = _segmentation()
    assert object_under_box(segmentation, Box(0, 0, 10, 10)) == 1
    assert object_under_box(segmentation, Box(0, 0, 5, 5)) == 0
    assert object_under_box(segmentation, Box(0, 0, 10, 10), (20, 20)) == 1
    assert object_under_box(segmentation, Box(0, 0, 10, 10), (40, 40)) == 0  # box from a 2x image
    assert object_under_box(segmentation, Box(14, 14, 20, 20)) is None
    assert object_under_box(None, Box(0, 0, 10, 10)) is None  # a real robot has no segmentation


def test_a_box_is_rounded_outwards_to_whole_pixels_and_clipped_to_the_image() -> None:
    segmentation = np.full((10, 10), -1, dtype=np.int32)
    segmentation[0, 0] = 3
    segmentation[9, 9] = 4
    # 0.9 rounds down to pixel 0 and 9.1 up to 10: both corner pixels are inside; 3 wins the tie.
    assert object_under_box(segmentation, Box(0.9, 0.9, 9.1, 9.1)) == 3
    assert object_under_box(segmentation, Box(8.5, 8.5, 40, 40)) == 4
    assert object_under_box(segmentation, Box(-5, -5, 0.5, 0.5)) == 3
    assert object_under_box(segmentation, Box(1, 1, 9, 9)) is None


def test_the_hand_is_closed_below_the_one_threshold_in_commands_and_states() -> None:
    assert HAND_CLOSED_BELOW == 0.6
    joints = np.zeros(13)  # float64: the 0.6 boundary is exact
    joints[7:] = 1.0
    assert not hand_closed(joints)
    joints[7:] = 0.59
    assert hand_closed(joints)
    joints[7:] = 0.6
    assert not hand_closed(joints)
    joints[:7] = -5.0  # the arm joints never count
    joints[7:] = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]  # a mean of 0.5
    assert hand_closed(joints)


def test_a_robot_spec_of_any_size_splits_arm_and_hand_where_it_says() -> None:
    names = ("shoulder", "elbow", "wrist", "finger_a", "finger_b")
    lower, upper = np.array([-1.0] * 3 + [0.0] * 2), np.ones(5)
    spec = RobotSpec(names, lower, upper, np.array([0.0] * 3 + [1.0] * 2), arm_joints=3)
    np.testing.assert_allclose(spec.max_step, [0.15] * 3 + [0.25] * 2)  # rad for the arm, units for the hand
    assert hand_closed(np.array([0.5, 0.5, 0.5, 0.1, 0.2]), spec.arm_joints)
    assert not hand_closed(np.array([0.5, 0.5, 0.5, 0.9, 1.0]), spec.arm_joints)
    with pytest.raises(ValueError, match="one value per joint, shape \\(5,\\), got \\(13,\\)"):
        RobotSpec(names, np.zeros(13), np.ones(13), np.zeros(13), arm_joints=3)
    with pytest.raises(ValueError, match="arm_joints \\(5\\) must leave at least one for the hand"):
        RobotSpec(names, lower, upper, np.zeros(5), arm_joints=5)
