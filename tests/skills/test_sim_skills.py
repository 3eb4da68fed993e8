"""grasp and reset on the real MuJoCo sim, with the scene planner and the scripted controller."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import py_trees
import pytest
from py_trees.common import Status

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must precede MuJoCo's GL setup

from dexagent.agent.planner import ScenePlanner  # noqa: E402
from dexagent.agent.sim_world import SimTruth, drop_pose  # noqa: E402
from dexagent.controller.factory import resolve_controller  # noqa: E402
from dexagent.hardware import ARM_DOF, SafeRobot  # noqa: E402
from dexagent.hardware.sim.robot import SimRobot  # noqa: E402
from dexagent.hardware.sim.scenes import sample_scene  # noqa: E402
from dexagent.skills import REGISTRY, SkillContext  # noqa: E402
from tests.skills.conftest import InlineExecutor, tick_until_done  # noqa: E402


@pytest.fixture
def sim() -> Iterator[SimRobot]:
    robot = SimRobot(sample_scene(3, n_objects=2), image_size=64)
    yield robot
    robot.close()


def sim_context(sim: SimRobot, controllers: list) -> SkillContext:
    def controller_for(skill: str):  # type: ignore[no-untyped-def]
        controllers.append(resolve_controller("scripted", skill).build(sim))
        return controllers[-1]

    return SkillContext(
        robot=SafeRobot(sim),
        planner=ScenePlanner(sim),
        controllers=controller_for,
        clock=lambda: sim.time,
        success_check="ground_truth",
        scene=SimTruth(sim),
        drop_pose=drop_pose(),
        executor=InlineExecutor(),
    )


def target_of(sim: SimRobot) -> tuple[int, str]:
    obj = next(o for o in sim.objects if not o.flat)
    return obj.index, "the " + obj.name.replace("_", " ")


@pytest.mark.slow
def test_grasp_then_reset_puts_the_object_in_the_bin(sim: SimRobot) -> None:
    index, target = target_of(sim)
    context = sim_context(sim, [])
    root = py_trees.composites.Sequence(
        "grasp and put away",
        memory=True,
        children=[
            REGISTRY.get("grasp").build("grasp", {"target": target}, context),
            REGISTRY.get("reset").build("reset", {}, context),
        ],
    )
    tick_until_done(root, context, max_ticks=600)
    assert root.status == Status.SUCCESS, py_trees.blackboard.Blackboard.storage.get("/failure_reason")
    assert SimTruth(sim).in_bin(index)
    assert py_trees.blackboard.Blackboard.get("/grasped") == [target]
    np.testing.assert_allclose(sim.state()[:ARM_DOF], sim.spec.home[:ARM_DOF], atol=0.05)
    assert np.all(sim.state()[ARM_DOF:] > 0.9)  # the hand is open


def test_a_preempted_grasp_stops_the_expert_and_the_arm_holds_still(sim: SimRobot) -> None:
    _, target = target_of(sim)
    controllers: list = []
    context = sim_context(sim, controllers)
    leaf = REGISTRY.get("grasp").build("grasp", {"target": target}, context)
    for _ in range(25):  # the expert is moving toward its pre-grasp pose
        context.acted_this_tick = False
        leaf.tick_once()
    moving = sim.state()[:ARM_DOF].copy()
    leaf.stop(Status.INVALID)
    assert controllers and controllers[0].expert is None  # closed: a stale expert is never reused
    for _ in range(20):
        context.hold()
    settled = sim.state()[:ARM_DOF]
    # It stops where it was commanded last: within one tick's motion of where it was, and stays there.
    assert np.max(np.abs(settled - moving)) < 0.15
    for _ in range(10):
        context.hold()
    np.testing.assert_allclose(sim.state()[:ARM_DOF], settled, atol=2e-3)
