"""Grasp pose choice: side for bottles, top for the rest, blocked approaches last, unreachable is an error."""

from __future__ import annotations

import numpy as np
import pytest

from dexagent.hardware import HardwareError
from dexagent.hardware.sim.expert import shared_ik
from dexagent.hardware.sim.grasp_poses import (
    ObjectExtent,
    corridor_blocked,
    grasp_candidates,
    object_extent,
    plan_grasp,
    side_grasp_poses,
    top_grasp_poses,
)
from dexagent.hardware.sim.robot import SimRobot


def test_extent_measures_the_placed_objects(three_object_scene) -> None:  # type: ignore[no-untyped-def]
    with SimRobot(three_object_scene, image_size=32, cameras=()) as sim:
        cube = object_extent(sim, 0)
        bottle = object_extent(sim, 2)
    assert cube.top == pytest.approx(0.05, abs=0.003) and cube.bottom == pytest.approx(0.0, abs=0.003)
    assert cube.half_u == pytest.approx(0.025, abs=0.002)
    assert bottle.top == pytest.approx(0.205, abs=0.003)  # neck centre 0.18 + half length 0.025
    assert np.allclose(bottle.center[:2], [0.58, -0.02], atol=0.003)


def test_bottles_are_grasped_from_the_side_cubes_from_above(three_object_scene) -> None:  # type: ignore[no-untyped-def]
    with SimRobot(three_object_scene, image_size=32, cameras=()) as sim:
        assert grasp_candidates(object_extent(sim, 0))[0].approach == "top"
        assert grasp_candidates(object_extent(sim, 2))[0].approach == "side"


def test_an_object_in_front_blocks_the_side_approach(three_object_scene, shapes) -> None:  # type: ignore[no-untyped-def]
    with SimRobot(three_object_scene, image_size=32, cameras=()) as sim:
        bottle = object_extent(sim, 2)
        level = side_grasp_poses(bottle)[0]  # radial, the shallowest pitch
        in_front = shapes.scene((shapes.can(), 0.47, -0.016, 0.0))
    with SimRobot(in_front, image_size=32, cameras=()) as other:
        can = object_extent(other, 0)
    assert corridor_blocked(level, [can])
    assert not corridor_blocked(level, [object_extent(sim, 1)])  # the can beside the bottle is clear
    ordered = grasp_candidates(bottle, [can])
    assert ordered[0].approach == "side" and not corridor_blocked(ordered[0], [can])


def test_unreachable_grasps_raise(shapes) -> None:  # type: ignore[no-untyped-def]
    with SimRobot(shapes.scene((shapes.cube(), 1.3, 0.0, 0.0)), image_size=32, cameras=()) as sim:
        candidates = grasp_candidates(object_extent(sim, 0))
    with pytest.raises(HardwareError, match="out of reach"):
        plan_grasp(shared_ik(), candidates, lift=0.15, entry_ticks=15, descend_ticks=20, lift_ticks=30)


def _footprint(yaw: float, half_u: float, half_v: float) -> ObjectExtent:
    axis_u = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    return ObjectExtent(np.array([0.5, 0.2, 0.03]), 0.0, 0.06, axis_u, half_u, half_v)


@pytest.mark.parametrize("yaw", [0.0, 0.4, 1.1, 2.5])
def test_round_footprints_pinch_along_the_line_to_the_base_whatever_their_yaw(yaw: float) -> None:
    """A can's own yaw is invisible in an image, so demos must not depend on it."""
    pinch = top_grasp_poses(_footprint(yaw, 0.030, 0.034))[0].rotation[:, 0]
    toward_base = -np.array([0.5, 0.2, 0.0]) / np.linalg.norm([0.5, 0.2])
    np.testing.assert_allclose(pinch, toward_base, atol=1e-9)


def test_elongated_footprints_pinch_across_their_narrow_side() -> None:
    extent = _footprint(0.4, 0.06, 0.02)  # long along axis_u: the pinch runs along axis_v
    pinch = top_grasp_poses(extent)[0].rotation[:, 0]
    assert abs(pinch @ extent.axis_v) == pytest.approx(1.0)
    assert pinch @ -extent.center > 0  # of its two directions, the one nearer the thumb-to-base home yaw
