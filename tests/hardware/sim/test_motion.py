"""Forward kinematics features of the grasp site (the policy's `ee_input`)."""

from __future__ import annotations

import numpy as np
import pytest

from dexagent.hardware.sim.model import ARM_HOME
from dexagent.hardware.sim.motion import ArmIK, grasp_site_features


def test_grasp_site_features_are_the_site_position_and_two_rotation_columns() -> None:
    rng = np.random.default_rng(0)
    arm_q = np.array(ARM_HOME) + rng.uniform(-0.4, 0.4, size=(5, 7))
    features = grasp_site_features(arm_q)
    assert features.shape == (5, 9) and features.dtype == np.float32
    ik = ArmIK()
    for q, row in zip(arm_q, features, strict=True):
        position, rotation = ik.site_pose(q)
        np.testing.assert_allclose(row[:3], position, atol=1e-6)
        np.testing.assert_allclose(row[3:6], rotation[:, 0], atol=1e-6)
        np.testing.assert_allclose(row[6:], rotation[:, 1], atol=1e-6)
    # Different joints, different poses: the features are not constant.
    assert np.ptp(features[:, :3], axis=0).max() > 0.05


def test_grasp_site_features_name_a_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"arm_q must be \(N, 7\), got shape \(7,\)"):
        grasp_site_features(np.zeros(7))
