"""The MJCF embodiment: limits in radians, actuators, timing, scene looks."""

from __future__ import annotations

import mujoco
import numpy as np

from dexagent.hardware.sim.model import (
    ARM_JOINTS,
    ARM_LIMITS,
    HAND_ACTUATORS,
    SUBSTEPS,
    TIMESTEP,
    build_model,
)
from dexagent.hardware.sim.scene_spec import Background


def test_arm_joint_limits_are_the_rm75_limits_in_radians() -> None:
    model = build_model(None)
    for joint, limit in zip(ARM_JOINTS, ARM_LIMITS, strict=True):
        assert np.allclose(model.joint(joint).range, [-limit, limit])


def test_thirteen_position_actuators_and_twenty_hz_control() -> None:
    model = build_model(None)
    names = [model.actuator(i).name for i in range(model.nu)]
    assert names == list(ARM_JOINTS + HAND_ACTUATORS)
    assert model.opt.timestep == TIMESTEP == 0.002
    assert SUBSTEPS * TIMESTEP == 0.05
    assert model.opt.cone == mujoco.mjtCone.mjCONE_ELLIPTIC
    assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST


def test_each_finger_is_coupled_so_one_actuator_curls_it() -> None:
    model = build_model(None)
    data = mujoco.MjData(model)
    index = len(ARM_JOINTS) + HAND_ACTUATORS.index("index")
    data.ctrl[index] = 1.2
    mujoco.mj_step(model, data, nstep=500)
    proximal = data.joint("index_proximal").qpos[0]
    distal = data.joint("index_distal").qpos[0]
    assert proximal > 0.8
    assert abs(distal - proximal) < 0.05
    assert abs(data.joint("middle_proximal").qpos[0]) < 0.05  # other fingers stay open


def test_scene_objects_get_the_spec_mass_and_the_background_texture(shapes) -> None:  # type: ignore[no-untyped-def]
    scene = shapes.scene((shapes.cube(), 0.45, 0.0, 0.0), (shapes.can(), 0.55, 0.1, 0.0))
    checker = Background("checker", "checker", (0.2, 0.2, 0.2), (0.9, 0.9, 0.9), (4.0, 4.0))
    scene = type(scene)(scene.seed, scene.split, scene.objects, checker, scene.lighting)
    model = build_model(scene)
    assert np.isclose(model.body("object0").mass[0], 0.08)
    assert np.isclose(model.body("object1").mass[0], 0.12)
    assert model.ntex == 1 and np.allclose(model.mat_texrepeat[0], [4.0, 4.0])
