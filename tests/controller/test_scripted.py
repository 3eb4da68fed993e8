"""ScriptedController: box -> target object by segmentation, then the expert drives (real MuJoCo)."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import pytest

from dexagent.controller.interfaces import Controller
from dexagent.controller.scripted import ScriptedController, ScriptedControllerError
from dexagent.hardware import Box, SafeRobot
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scene_spec import (
    Background,
    GeomSpec,
    Lighting,
    LightSpec,
    ObjectSpec,
    PlacedObject,
    SceneSpec,
)


def _block(name: str, colour: str, rgba: tuple[float, float, float, float]) -> ObjectSpec:
    geoms = (GeomSpec("box", (0.022, 0.022, 0.022)),)
    return ObjectSpec(name, "toy", colour, rgba, geoms, 0.06, 1.0, frozenset({"toy", colour}), 0.022)


@pytest.fixture
def two_blocks() -> SceneSpec:
    lamp = LightSpec((0.5, 0.0, 1.5), (0.0, 0.0, -1.0), (0.8, 0.8, 0.8), (0.3, 0.3, 0.3))
    light = Lighting("white", (lamp,))
    objects = (
        PlacedObject(_block("red_block", "red", (0.9, 0.1, 0.1, 1.0)), 0.42, -0.12, 0.2),
        PlacedObject(_block("blue_block", "blue", (0.1, 0.2, 0.9, 1.0)), 0.55, 0.1, -0.4),
    )
    return SceneSpec(3, "seen", objects, Background("white", "flat", (0.9,) * 3, (0.9,) * 3), light)


def test_scripted_controller_grasps_the_boxed_object(two_blocks: SceneSpec) -> None:
    with SimRobot(two_blocks, image_size=64, cameras=("head",)) as sim:
        robot = SafeRobot(sim)
        controller = ScriptedController(sim)
        assert isinstance(controller, Controller)
        observation = robot.observe()
        box = sim.object_box(1)
        assert box is not None
        controller.reset(observation, box)
        assert controller.target_index == 1
        for _ in range(200):
            robot.act(controller.act(observation))
            observation = robot.observe()
            if sim.grasp_success(1) or controller.failed:
                break
        assert sim.grasp_success(1), controller.failure_reason
        assert not sim.is_lifted(0)
        controller.close()


def test_unknown_skill_and_empty_box_are_clear_errors(two_blocks: SceneSpec) -> None:
    with SimRobot(two_blocks, image_size=32, cameras=("head",)) as sim:
        with pytest.raises(ScriptedControllerError, match="no scripted expert for skill 'juggle'"):
            ScriptedController(sim, skill="juggle")
        controller = ScriptedController(sim)
        with pytest.raises(ScriptedControllerError, match="before reset"):
            controller.act(sim.observe())
        with pytest.raises(ScriptedControllerError, match="no object is visible"):
            controller.reset(sim.observe(), Box(0, 0, 2, 2))
