"""The scripted grasp expert really grasps (real MuJoCo, seeded scenes)."""

from __future__ import annotations

import numpy as np
import pytest

from dexagent.hardware.sim.expert import GraspExpert, Tempo
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scene_spec import SPLITS, SceneSpec
from dexagent.hardware.sim.scenes import sample_scene


def _run(scene: SceneSpec, target: int, tempo: Tempo | None = None) -> tuple[GraspExpert, SimRobot]:
    robot = SimRobot(scene, cameras=())
    expert = GraspExpert(robot, target, tempo=tempo)
    for _ in range(400):
        if expert.done:
            break
        robot.act(expert.act(robot.observe()))
    return expert, robot


def _ticks_to_close(scene: SceneSpec, tempo: Tempo | None) -> int:
    robot = SimRobot(scene, cameras=())
    expert = GraspExpert(robot, 0, tempo=tempo)
    for tick in range(400):
        robot.act(expert.act(robot.observe()))
        if expert.phase == "close":
            return tick
    raise AssertionError("the expert never closed the hand")


def test_a_slower_tempo_closes_later_by_its_pause_and_slowdowns_and_still_grasps(shapes) -> None:  # type: ignore[no-untyped-def]
    scene = shapes.scene((shapes.cube(), 0.45, -0.1, 0.3))
    base = _ticks_to_close(scene, None)
    slow = Tempo(approach=1.5, descend=2.0, pause=0.5)
    # 20 Hz: a 1.5 s approach 50% longer (when the move is not speed-limited), the 1 s descent
    # twice as long, and a 0.5 s pause: 15 + 20 + 10 ticks later.
    assert _ticks_to_close(scene, slow) - base == pytest.approx(45, abs=2)
    expert, robot = _run(scene, 0, slow)
    assert expert.done and not expert.failed, expert.failure_reason
    assert robot.grasp_success(0)


def test_tempo_draws_stay_in_their_range_and_bad_ones_are_refused() -> None:
    rng = np.random.default_rng(0)
    draws = [Tempo.draw(rng, 0.7) for _ in range(200)]
    assert all(1.0 <= t.approach <= 1.7 and 1.0 <= t.descend <= 1.7 and 0.0 <= t.pause <= 0.7 for t in draws)
    assert len({t.pause for t in draws}) == 200
    assert Tempo.draw(rng, 0.0) == Tempo()
    with pytest.raises(ValueError, match="tempo out of range"):
        Tempo(approach=0.5)


def test_expert_grasps_a_cube_from_above(shapes) -> None:  # type: ignore[no-untyped-def]
    expert, robot = _run(shapes.scene((shapes.cube(), 0.45, -0.1, 0.3)), 0)
    assert expert.approach == "top"
    assert expert.done and not expert.failed, expert.failure_reason
    assert robot.grasp_success(0)


def test_expert_grasps_a_bottle_from_the_side_in_clutter(three_object_scene) -> None:  # type: ignore[no-untyped-def]
    expert, robot = _run(three_object_scene, 2)
    assert expert.approach == "side"
    assert robot.grasp_success(2), expert.failure_reason
    assert not robot.is_lifted(0) and not robot.is_lifted(1)


def test_unreachable_object_fails_with_a_reason(shapes) -> None:  # type: ignore[no-untyped-def]
    expert, robot = _run(shapes.scene((shapes.cube(), 1.2, 0.9, 0.0)), 0)
    assert expert.done and expert.failed
    assert expert.failure_reason is not None and "out of reach" in expert.failure_reason
    assert not robot.grasp_success(0)


@pytest.mark.slow
@pytest.mark.parametrize("split", SPLITS)
def test_expert_grasps_in_procedural_clutter_on_every_split(split: str) -> None:
    successes = 0
    for seed in range(4):
        scene = sample_scene(seed, split)
        target = next(i for i, placed in enumerate(scene.objects) if not placed.spec.flat)
        _, robot = _run(scene, target)
        successes += robot.grasp_success(target)
    assert successes >= 3  # measured 98-100% over 100 seeds per split; one spare for library changes


def _tick(robot: SimRobot, expert: GraspExpert, offset: np.ndarray | None = None) -> np.ndarray:
    action = expert.act(robot.observe())
    executed = action if offset is None else action + offset
    robot.act(executed)
    return action


def test_expert_from_home_replays_its_plan_without_replanning(shapes) -> None:  # type: ignore[no-untyped-def]
    expert, robot = _run(shapes.scene((shapes.cube(), 0.45, -0.1, 0.3)), 0)
    assert robot.grasp_success(0)
    assert expert.replans == 0 and expert.regrasps == 0


def test_expert_replans_from_where_something_else_drove_the_arm(shapes) -> None:  # type: ignore[no-untyped-def]
    robot = SimRobot(shapes.scene((shapes.cube(), 0.45, -0.1, 0.3)), cameras=())
    expert = GraspExpert(robot, 0)
    push_aside = np.zeros(13)
    push_aside[0] = 0.3  # the base turns the hand ~15 cm off its approach
    for tick in range(400):
        if expert.done:
            break
        _tick(robot, expert, push_aside if 10 <= tick < 25 else None)
    assert expert.replans >= 1
    assert robot.grasp_success(0), expert.failure_reason


def test_expert_takes_over_a_hand_closed_beside_the_target_opens_and_grasps_again(shapes) -> None:  # type: ignore[no-untyped-def]
    robot = SimRobot(shapes.scene((shapes.cube(), 0.45, -0.1, 0.3)), cameras=())
    # A "policy" that closes 7 cm off: the expert's own motion with the base turned aside.
    missing = GraspExpert(robot, 0)
    missing.replan_on_drift = False  # it must not notice that it is being turned aside
    aside = np.zeros(13)
    aside[0] = 0.15
    for _ in range(200):
        if missing.phase == "lift":
            break
        _tick(robot, missing, aside)
    assert not robot.in_contact_with_hand(0) and robot.object_height(0) < 0.01
    taking_over = GraspExpert(robot, 0)
    phases = []
    for _ in range(400):
        if taking_over.done:
            break
        _tick(robot, taking_over)
        phases.append(taking_over.phase)
    assert phases[0] == "reopen" and "back_off" in phases and "close" in phases
    assert robot.grasp_success(0), taking_over.failure_reason


def test_expert_grasps_again_when_its_own_grasp_closes_on_nothing(shapes) -> None:  # type: ignore[no-untyped-def]
    robot = SimRobot(shapes.scene((shapes.cube(), 0.45, -0.1, 0.3)), cameras=())
    expert = GraspExpert(robot, 0)
    moved = False
    for _ in range(600):
        if expert.done:
            break
        if expert.phase == "close" and not moved:
            # The object slides 6 cm away just as the hand closes: the close misses it.
            qpos = robot.model.joint("object0_free").qposadr[0]
            robot.data.qpos[qpos + 1] += 0.06
            moved = True
        _tick(robot, expert)
    assert moved and expert.regrasps == 1
    assert robot.grasp_success(0), expert.failure_reason
