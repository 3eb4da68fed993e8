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


def _push_heights(push_height: float, seed: int) -> tuple[dict[str, list[tuple[float, float]]], bool]:
    """Per phase, (executed site height - the label's, share of the start gap left) at every tick of a
    push demo with no joint noise, and whether the demo lifted the object."""
    scene = sample_scene(seed, "seen", 3, flat_target=True)
    with SimRobot(scene, image_size=16, cameras=()) as sim:
        expert = PerturbedExpert(
            ScriptedController(sim, "push_then_grasp"), 0.0, seed, push_height=push_height
        )
        observation = sim.observe()
        box = sim.object_box(0)
        assert box is not None
        expert.reset(observation, box)
        pusher = expert.controller.expert
        assert pusher is not None
        heights: dict[str, list[tuple[float, float]]] = {}
        for _ in range(600):
            action = expert.act(observation)
            assert expert.label is not None
            assert np.all(action[7:] == expert.label[7:])  # the hand command is never perturbed
            raised = pusher.ik.site_pose(action[:7])[0][2] - pusher.ik.site_pose(expert.label[:7])[0][2]
            heights.setdefault(pusher.phase, []).append((float(raised), pusher.gap_left()))
            sim.act(action)
            observation = sim.observe()
            if expert.done:
                break
        return heights, not expert.failed and sim.grasp_success(0)


def test_push_height_ends_the_descent_high_and_sinks_before_the_fingers_touch() -> None:
    heights, lifted = _push_heights(0.03, seed=3)
    assert 0.3 * 0.03 - 1e-3 < heights["descend"][-1][0] <= 0.03 + 1e-3  # the descent ends high
    assert heights["descend"][0][0] < 0.2 * heights["descend"][-1][0]  # ramping in from the top
    push = heights["push1"]
    assert push[0][0] > 0.5 * heights["descend"][-1][0]  # still high as the push starts
    touching = [raised for raised, gap in push if gap == 0.0]
    assert touching and max(abs(raised) for raised in touching) < 1e-6  # down by contact
    for phase in ("line_up", "move_in", "close", "lift", "hold"):
        assert max(abs(raised) for raised, _ in heights.get(phase, [(0.0, 0.0)])) < 1e-6, phase
    assert lifted  # the demo still ends in a grasp
    clean, _ = _push_heights(0.0, seed=3)
    assert max(abs(raised) for ticks in clean.values() for raised, _ in ticks) < 1e-6


def test_push_height_is_refused_for_a_skill_without_a_push(sim: SimRobot) -> None:
    with pytest.raises(ValueError, match="skill 'grasp' has no push"):
        PerturbedExpert(ScriptedController(sim, "grasp"), noise=0.0, seed=0, push_height=0.02)
    with pytest.raises(ValueError, match="push height must be in"):
        PerturbedExpert(ScriptedController(sim, "push_then_grasp"), noise=0.0, seed=0, push_height=0.2)
