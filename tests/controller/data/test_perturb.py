"""DART noise: the perturbed expert moves the arm off its path in free space, never while grasping."""

from __future__ import annotations

import numpy as np
import pytest

from dexagent.controller.data.perturb import PerturbedExpert
from dexagent.controller.scripted import ScriptedController
from dexagent.hardware import SafeRobot
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene


@pytest.fixture
def sim() -> SimRobot:
    robot = SimRobot(sample_scene(5, "seen", 2), image_size=32)
    yield robot
    robot.close()


def test_noise_is_on_in_the_approach_and_off_once_the_hand_closes(sim: SimRobot) -> None:
    robot = SafeRobot(sim)
    robot.home()
    expert = PerturbedExpert(ScriptedController(sim, "grasp"), noise=0.05, seed=1)
    target = next(o.index for o in sim.objects if sim.object_box(o.index) is not None)
    observation = robot.observe()
    box = sim.object_box(target)
    assert box is not None
    expert.reset(observation, box)
    offsets: dict[str, list[float]] = {}
    for _ in range(200):
        action = expert.act(observation)
        assert expert.label is not None and expert.controller.expert is not None
        phase = expert.controller.expert.phase
        offset = np.abs(action - expert.label)
        assert np.all(offset[7:] == 0.0)  # the hand command is never perturbed
        offsets.setdefault(phase, []).append(float(offset[:7].max()))
        robot.act(action)
        observation = robot.observe()
        if expert.done:
            break
    assert max(offsets["approach"]) > 0.02
    for phase in ("close", "lift", "hold"):
        assert max(offsets[phase]) == 0.0, phase
    # The descend fades the noise out: its last tick is (almost) clean.
    assert offsets["descend"][-1] < 0.2 * max(offsets["approach"])
    assert not expert.failed, expert.failure_reason


def test_negative_noise_is_rejected(sim: SimRobot) -> None:
    with pytest.raises(ValueError, match="noise must be non-negative"):
        PerturbedExpert(ScriptedController(sim, "grasp"), noise=-0.1, seed=0)
