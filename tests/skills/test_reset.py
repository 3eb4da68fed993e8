"""reset: drop a held object over the bin, then home with the hand open, one tick at a time."""

from __future__ import annotations

import numpy as np
import py_trees
import pytest
from py_trees.common import Status

from dexagent.hardware import ARM_DOF
from dexagent.skills import REGISTRY
from tests.skills.conftest import (
    ClosingController,
    FakeScene,
    KinematicArm,
    ScriptedPlanner,
    make_context,
    tick_until_done,
)

DROP = np.array([-0.8, 0.4, 0.0, 1.2, 0.0, 0.9, 0.0] + [1.0] * 6, np.float32)


def holding_cup(arm: KinematicArm) -> None:
    arm.state = np.array([0.3] * ARM_DOF + [0.1] * 6, np.float32)  # arm out, hand closed
    py_trees.blackboard.Blackboard.set("/held_object", "cup")
    py_trees.blackboard.Blackboard.set("/held_index", 0)


def test_reset_carries_the_object_to_the_bin_opens_and_goes_home(arm: KinematicArm) -> None:
    holding_cup(arm)
    scene = FakeScene(arm=arm)
    context = make_context(arm, ScriptedPlanner(), ClosingController(), drop_pose=DROP, scene=scene)
    leaf = REGISTRY.get("reset").build("reset", {}, context)
    tick_until_done(leaf, context)
    assert leaf.status == Status.SUCCESS
    actions = np.stack(arm.actions)
    # Over the bin with the grip kept, then the hand opens there, then home with the hand open.
    at_bin = np.flatnonzero(np.all(np.abs(actions[:, :ARM_DOF] - DROP[:ARM_DOF]) < 1e-6, axis=1))
    assert at_bin.size and np.all(actions[at_bin[0], ARM_DOF:] < 0.2)
    assert np.all(actions[at_bin[-1], ARM_DOF:] == 1.0)
    np.testing.assert_allclose(actions[-1], arm.spec.home, atol=1e-6)
    steps = np.abs(np.diff(actions[:, :ARM_DOF], axis=0)).max()
    assert steps <= 1.0 * 0.05 + 1e-6  # minimum-jerk moves peak at speed_rad_s (default 1 rad/s)
    assert scene.removed == [0]
    board = py_trees.blackboard.Blackboard
    assert board.get("/grasped") == ["cup"] and board.get("/held_object") is None
    dropped = [f for name, f in context.events if name == "dropped"]  # type: ignore[attr-defined]
    assert dropped == [{"object": "cup", "object_index": 0, "in_bin": True}]


def test_an_object_that_misses_the_bin_stays_in_the_scene(arm: KinematicArm) -> None:
    holding_cup(arm)
    scene = FakeScene(arm=arm, bin_hits=False)
    context = make_context(arm, ScriptedPlanner(), ClosingController(), drop_pose=DROP, scene=scene)
    leaf = REGISTRY.get("reset").build("reset", {}, context)
    tick_until_done(leaf, context)
    assert leaf.status == Status.SUCCESS
    assert scene.removed == []
    assert not py_trees.blackboard.Blackboard.exists("/grasped")


def test_with_nothing_held_reset_goes_straight_home(arm: KinematicArm) -> None:
    arm.state = np.array([0.5] * ARM_DOF + [1.0] * 6, np.float32)
    context = make_context(arm, ScriptedPlanner(), ClosingController(), drop_pose=DROP)
    leaf = REGISTRY.get("reset").build("reset", {"speed_rad_s": 1.0}, context)
    ticks = tick_until_done(leaf, context)
    assert leaf.status == Status.SUCCESS
    actions = np.stack(arm.actions)
    assert not np.any(np.all(np.abs(actions[:, :ARM_DOF] - DROP[:ARM_DOF]) < 1e-6, axis=1))
    np.testing.assert_allclose(actions[-1], arm.spec.home, atol=1e-6)
    # 0.5 rad with a 1 rad/s peak: ceil(1.875 * 0.5 / 0.05) = 19 ticks, then 0.2 s of dwell after arriving.
    assert ticks == 19 + 4
    speeds = np.abs(np.diff(actions[:, 0])) / 0.05
    assert speeds[0] < 0.1 and speeds.max() <= 1.0 + 1e-6  # starts gently, never over the peak


def test_reset_out_of_time_names_the_waypoint(arm: KinematicArm) -> None:
    holding_cup(arm)
    context = make_context(arm, ScriptedPlanner(), ClosingController(), drop_pose=DROP)
    leaf = REGISTRY.get("reset").build("reset", {"budget_s": 0.3}, context)
    tick_until_done(leaf, context)
    assert py_trees.blackboard.Blackboard.get("/failure_reason") == (
        "reset: timeout after 0.3 s while moving to 'over_bin'"
    )


class _SceneWithoutABin:
    """Ground truth for grasps only: it cannot say what landed in the bin, nor take it away."""

    def object_box(self, index: int) -> None:
        return None

    def grasp_success(self, index: int) -> bool:
        return False

    def is_lifted(self, index: int) -> bool:
        return False

    def in_contact_with_hand(self, index: int) -> bool:
        return False


def test_a_scene_must_offer_what_reset_needs_before_any_skill_runs(arm: KinematicArm) -> None:
    with pytest.raises(TypeError, match="_SceneWithoutABin lacks SceneTruth's in_bin, remove_object"):
        make_context(arm, ScriptedPlanner(), ClosingController(), drop_pose=DROP, scene=_SceneWithoutABin())
    make_context(arm, ScriptedPlanner(), ClosingController(), drop_pose=DROP, scene=FakeScene(arm=arm))
