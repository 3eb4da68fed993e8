"""The experts' IK helpers on the real embodiment model."""

from __future__ import annotations

import numpy as np
import pytest

from dexagent.hardware.sim.grasp_poses import UP
from dexagent.hardware.sim.model import ARM_HOME
from dexagent.hardware.sim.motion import ArmIK, site_rotation, solve_ik


@pytest.mark.parametrize("offset", [(0.0, 0.0, 0.03), (0.02, -0.01, 0.0), (0.0, 0.0, -0.02)])
def test_shift_moves_the_site_by_the_offset_and_keeps_its_rotation(
    offset: tuple[float, float, float],
) -> None:
    ik = ArmIK()
    # Away from home too: a pose a push starts from, 2 cm above the table, fingers trailing.
    push = site_rotation(-UP, np.array([0.0, 1.0, 0.0]))
    low = solve_ik(ik, np.array(ARM_HOME), np.array([0.45, 0.05, 0.02]), push)
    for q in (np.array(ARM_HOME), low):
        before, turn = ik.site_pose(q)
        after, turned = ik.site_pose(ik.shift(q, np.array(offset)))
        np.testing.assert_allclose(after - before, offset, atol=2.5e-3)  # first order: mm off
        assert np.abs(turned - turn).max() < 0.02
