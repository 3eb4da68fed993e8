"""One closed-loop attempt in the real sim: how it ends and why, with controllers that cannot grasp."""

from __future__ import annotations

import numpy as np
import pytest

from dexagent.controller.data.rollout import (
    CLOSED_EMPTY,
    KNOCKED_OFF,
    TIMEOUT,
    UNSAFE_ACTION,
    choose_target,
    instruction_for,
    run_attempt,
)
from dexagent.hardware import Box, Observation, SafeRobot
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene


class HoldStill:
    """A controller that keeps the arm where it is: it can never lift anything."""

    def __init__(self) -> None:
        self.boxes: list[Box] = []

    def reset(self, observation: Observation, target_box: Box) -> None:
        self.boxes.append(target_box)
        self.hold = observation.state.copy()

    def act(self, observation: Observation) -> np.ndarray:
        return self.hold

    def close(self) -> None:
        pass


class ClosesInPlace(HoldStill):
    """Closes the hand where the arm is, far above any object."""

    def act(self, observation: Observation) -> np.ndarray:
        return np.concatenate([self.hold[:7], np.zeros(6, dtype=np.float32)])


class KnocksTargetOff(HoldStill):
    """Stands in for a clumsy push: the target ends up in the bin, below the table top."""

    def __init__(self, sim: SimRobot, target: int) -> None:
        super().__init__()
        self.sim, self.target = sim, target

    def act(self, observation: Observation) -> np.ndarray:
        if self.sim.object_height(self.target) > -0.05:
            self.sim.remove_object(self.target)
        return self.hold


class SendsNaN(HoldStill):
    def act(self, observation: Observation) -> np.ndarray:
        return np.full(13, np.nan, dtype=np.float32)


@pytest.fixture
def sim() -> SimRobot:
    robot = SimRobot(sample_scene(11, "seen", 3), image_size=32)
    yield robot
    robot.close()


def test_an_attempt_that_never_lifts_times_out_after_the_budget(sim: SimRobot) -> None:
    robot, controller = SafeRobot(sim), HoldStill()
    robot.home()
    ticks: list[np.ndarray] = []
    outcome = run_attempt(sim, robot, controller, 0, seconds=0.5, on_tick=lambda o, a: ticks.append(a))
    assert (outcome.success, outcome.steps, outcome.reason) == (False, 10, TIMEOUT)
    assert len(ticks) == 10 and ticks[0].shape == (13,)
    assert controller.boxes == [sim.object_box(0)] or controller.boxes[0].iou(sim.object_box(0)) > 0.5
    cadence = outcome.cadence
    assert cadence is not None and cadence.ticks == 10 and not cadence.paced
    assert list(cadence.stages) == ["decide", "act", "record", "observe", "tick"]
    assert all(stats.count == 10 for stats in cadence.stages.values())


def test_every_observation_is_seen_before_its_tick_while_the_sim_still_shows_it(sim: SimRobot) -> None:
    robot = SafeRobot(sim)
    robot.home()
    events: list[tuple[str, float, float]] = []  # (kind, observation time, sim time when called)
    run_attempt(
        sim, robot, ClosesInPlace(), 0, seconds=0.25,
        on_tick=lambda o, a: events.append(("tick", o.t, sim.time)),
        on_observe=lambda o: events.append(("observe", o.t, sim.time)),
    )  # fmt: skip
    kinds = [kind for kind, _, _ in events]
    assert kinds == ["observe"] + ["tick", "observe"] * 5  # the last observation gets no tick
    for kind, seen, now in events:
        assert (seen == now) if kind == "observe" else (now > seen)
    ticked = [seen for kind, seen, _ in events if kind == "tick"]
    assert ticked == [seen for kind, seen, _ in events if kind == "observe"][:5]


def test_a_timeout_says_whether_the_hand_closed_or_the_target_fell_off(sim: SimRobot) -> None:
    robot = SafeRobot(sim)
    robot.home()
    closing = run_attempt(sim, robot, ClosesInPlace(), 0, seconds=1.0)
    assert (closing.success, closing.reason) == (False, CLOSED_EMPTY)
    robot.home()
    knocked = run_attempt(sim, robot, KnocksTargetOff(sim, 0), 0, seconds=0.5)
    assert (knocked.success, knocked.steps, knocked.reason) == (False, 10, KNOCKED_OFF)


def test_a_nan_action_ends_the_attempt_as_unsafe(sim: SimRobot) -> None:
    robot = SafeRobot(sim)
    robot.home()
    outcome = run_attempt(sim, robot, SendsNaN(), 0, seconds=1.0)
    assert (outcome.success, outcome.steps, outcome.reason) == (False, 1, UNSAFE_ACTION)
    assert outcome.cadence is not None and outcome.cadence.ticks == 1  # the refused tick is counted


def test_the_target_is_drawn_among_objects_the_skill_applies_to(sim: SimRobot) -> None:
    visible = [True] * len(sim.objects)
    targets = {choose_target(sim.objects, visible, "grasp", seed) for seed in range(20)}
    assert targets <= {o.index for o in sim.objects if not o.flat} and len(targets) > 1
    assert choose_target(sim.objects, [False] * len(sim.objects), "grasp", 0) == -1
    flat_scene = SimRobot(sample_scene(4, "seen", 3, flat_target=True), image_size=32)
    with flat_scene:
        assert choose_target(flat_scene.objects, [True] * 3, "push_then_grasp", 0) == 0  # the flat one
    assert instruction_for(sim.objects[0], "apple") == f"grasp the {sim.objects[0].colour} apple"
