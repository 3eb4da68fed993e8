"""The push-then-grasp scripted expert on real MuJoCo scenes from the scene sampler."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dexagent.controller.scripted import ScriptedController
from dexagent.hardware.errors import HardwareError
from dexagent.hardware.sim.expert import Tempo, _rotation_error
from dexagent.hardware.sim.grasp_poses import UP
from dexagent.hardware.sim.motion import solve_ik
from dexagent.hardware.sim.push_expert import OVERHANG_TOLERANCE, PushThenGraspExpert
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scene_spec import SPLITS, SceneSpec
from dexagent.hardware.sim.scenes import PUSH_SIDE, sample_scene

MAX_TICKS = 400  # the rollout's 20 s budget for push_then_grasp at 20 Hz


def _run(robot: SimRobot, expert: PushThenGraspExpert) -> tuple[float, list[np.ndarray]]:
    """Tick the expert to the end; returns the largest overhang seen before the grasp and the actions."""
    observation = robot.observe()
    actions, overhang = [], -1.0
    for _ in range(MAX_TICKS):
        action = expert.act(observation)
        actions.append(action)
        robot.act(action)
        if expert.phase == "line_up":
            overhang = max(overhang, expert.overhang())
        if expert.done:
            break
    return overhang, actions


def test_scripted_controller_pushes_a_flat_object_over_the_edge_and_lifts_it() -> None:
    scene = sample_scene(0, "seen", 3, flat_target=True)
    with SimRobot(scene, image_size=64, cameras=("head",)) as robot:
        observation = robot.observe()
        box = robot.object_box(0)
        assert box is not None
        controller = ScriptedController(robot, "push_then_grasp")
        controller.reset(observation, box)
        assert controller.target_index == 0 and isinstance(controller.expert, PushThenGraspExpert)
        expert = controller.expert
        overhang, actions = _run(robot, expert)
        assert controller.done and not controller.failed, controller.failure_reason
        assert robot.grasp_success(0)
        assert expert.pushes >= 1 and overhang >= expert.wanted_overhang() - OVERHANG_TOLERANCE
        low, high = robot.spec.lower, robot.spec.upper
        for action in actions:
            assert action.shape == (13,) and action.dtype == np.float32
            assert np.all(action >= low - 1e-5) and np.all(action <= high + 1e-5)


def _phase_ticks(
    scene: SceneSpec, tempo: Tempo | None
) -> tuple[dict[str, int], PushThenGraspExpert, SimRobot]:
    """The first tick of each phase the expert went through, with the expert and robot at the end."""
    robot = SimRobot(scene, image_size=16, cameras=())
    expert = PushThenGraspExpert(robot, 0, tempo=tempo)
    first: dict[str, int] = {}
    observation = robot.observe()
    for tick in range(MAX_TICKS):
        action = expert.act(observation)
        first.setdefault(expert.phase, tick)
        robot.act(action)
        if expert.done:
            break
    return first, expert, robot


def test_a_slower_tempo_pauses_and_pushes_slower_and_still_pushes_far_enough_and_grasps() -> None:
    scene = sample_scene(0, "seen", 3, flat_target=True)
    base, _, base_robot = _phase_ticks(scene, None)
    slow, expert, robot = _phase_ticks(scene, Tempo(approach=1.2, descend=1.3, pause=0.4))
    base_robot.close()
    assert "pause" in slow and "pause" not in base
    # 20 Hz: the 1.5 s approach 20% longer (6 ticks, when not speed-limited), then a 0.4 s pause (8).
    assert slow["pause"] - base["descend"] == pytest.approx(6, abs=1)
    assert slow["descend"] - slow["pause"] == 8
    # The 1 s descent 30% longer; the push (its length at 8 cm/s, plus 0.3 s) too, so its end is not timed.
    assert slow["push1"] - slow["descend"] - (base["push1"] - base["descend"]) == 6
    base_push, slow_push = base["check"] - base["push1"], slow["check"] - slow["push1"]
    assert slow_push > base_push * 1.2
    with robot:
        assert expert.done and not expert.failed, expert.failure_reason
        assert robot.grasp_success(0)


def test_an_object_too_heavy_to_lift_by_its_edge_fails_with_a_reason() -> None:
    scene = sample_scene(3, "seen", 1, flat_target=True)
    target = scene.objects[0]
    # 8 kg: the arm still pushes it over the edge, but a pinch on its rim cannot hold it up.
    heavy = replace(target, spec=replace(target.spec, mass=8.0))
    scene = SceneSpec(scene.seed, scene.split, (heavy,), scene.background, scene.lighting)
    with SimRobot(scene, image_size=16, cameras=()) as robot:
        expert = PushThenGraspExpert(robot, 0)
        _run(robot, expert)
        assert expert.done and expert.failed and expert.failure_reason
        # It grasps the rim again after the first lift comes away empty, then gives up with the reason.
        assert expert.pushes >= 1 and expert.regrasps >= 1
        assert not robot.grasp_success(0)


def test_a_bad_target_index_is_refused() -> None:
    robot = SimRobot(sample_scene(1, "seen", 2, flat_target=True), image_size=16, cameras=())
    with robot, pytest.raises(HardwareError, match="no object 5"):
        PushThenGraspExpert(robot, 5)


@pytest.mark.slow
@pytest.mark.parametrize("split", SPLITS)
def test_push_then_grasp_succeeds_on_sampled_flat_targets_of_every_split(split: str) -> None:
    successes = 0
    for seed in range(5):
        with SimRobot(sample_scene(seed, split, 6, flat_target=True), image_size=16, cameras=()) as robot:
            expert = PushThenGraspExpert(robot, 0)
            _run(robot, expert)
            successes += int(robot.grasp_success(0))
    assert successes >= 4, f"{split}: {successes}/5"


def test_taking_over_along_its_own_push_the_expert_labels_what_its_demo_does_there() -> None:
    """A second expert watching the first one drive re-plans from each state it sees: on the descent,
    the push and the edge grasp's way in it must continue that motion, not rise and start over."""
    with SimRobot(sample_scene(0, "seen", 3, flat_target=True), image_size=16, cameras=()) as robot:
        driver, labeller = PushThenGraspExpert(robot, 0), PushThenGraspExpert(robot, 0)
        observation = robot.observe()
        labeller.act(observation)  # its own plan from home; every later tick something else drove
        agree: dict[str, list[bool]] = {"descend": [], "push": [], "move_in": []}
        for _ in range(MAX_TICKS):
            action = driver.act(observation)
            label = labeller.act(observation)
            phase = driver.phase.rstrip("123")
            if phase in agree and driver.phase_progress < 0.9:
                here, _ = labeller.ik.site_pose(observation.state[:7].astype(float))
                wanted, _ = labeller.ik.site_pose(action[:7].astype(float))
                labelled, _ = labeller.ik.site_pose(label[:7].astype(float))
                step, told = wanted - here, labelled - here
                same_way = float(step @ told) > 0.5 * float(np.linalg.norm(step) * np.linalg.norm(told))
                agree[phase].append(labeller.phase.rstrip("123") == phase and same_way)
            robot.act(action)
            observation = robot.observe()
            if driver.done:
                break
        assert driver.done and not driver.failed, driver.failure_reason
        for phase, verdicts in agree.items():
            assert len(verdicts) >= 5 and np.mean(verdicts) >= 0.8, (phase, np.mean(verdicts), len(verdicts))


def _hand_moved_to(
    robot: SimRobot, offset: tuple[float, float, float], turn: float = 0.0
) -> PushThenGraspExpert:
    """An expert that planned from home, after something else moved the hand to the push start plus
    `offset` (m), turned `turn` rad about the vertical off the push's rotation."""
    expert = PushThenGraspExpert(robot, 0)
    observation = robot.observe()
    expert.act(observation)  # its plan from home; the hand is then moved by something else
    goal = expert.push_start() + np.array(offset)
    c, s = np.cos(turn), np.sin(turn)
    turned = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ expert.push_rotation()
    q = solve_ik(expert.ik, observation.state[:7].astype(float), goal, turned)
    command = np.concatenate([q, observation.state[7:]]).astype(np.float32)
    for _ in range(60):
        robot.act(command)
    return expert


@pytest.mark.parametrize(
    ("offset", "turn", "phase"),
    [
        ((0.035, 0.0, 0.0), 0.0, "push"),  # at push height, 3.5 cm off the centre line: pushes on from there
        ((0.06, -0.06, 0.05), 0.0, "descend"),  # behind the object, beside and above the start: moves there
        ((0.0, 0.0, 0.2), 0.0, "rise"),  # above the line-up height: rises and approaches again
        ((0.01, 0.0, 0.0), 0.5, "descend"),  # on the push line, turned 0.5 rad: turns back there
        ((0.03, -0.05, 0.03), 0.6, "descend"),  # behind and turned: moves to the start, turning
        ((0.01, 0.0, 0.0), 1.2, "rise"),  # turned further than the hand turns near the object
        ((0.0, 0.08, 0.03), 0.0, "clear"),  # low over the plate: up clear of it, then back
        ((0.0, 0.08, 0.08), 0.3, "back"),  # over it and clear of it: back above the push start
        ((0.0, 0.0, 0.02), 0.0, "descend"),  # on the push line 2 cm high: sinks there, then pushes
        ((0.0, 0.035, 0.02), 0.0, "clear"),  # 2 cm high with the fingers over the plate: hops back
    ],
)
def test_taking_over_near_the_push_start_it_corrects_the_hand_instead_of_starting_over(
    offset: tuple[float, float, float], turn: float, phase: str
) -> None:
    with SimRobot(sample_scene(0, "seen", 3, flat_target=True), image_size=16, cameras=()) as robot:
        labeller = _hand_moved_to(robot, offset, turn)
        labeller.act(robot.observe())
        assert labeller.phase.rstrip("123") == phase
        push = labeller.push_rotation()
        if offset[2] == 0.02 and phase == "descend":  # the next 16 labels sink the hand most of the way
            high, _ = labeller.ik.site_pose(robot.observe().state[:7].astype(float))
            told, _ = labeller.ik.site_pose(labeller.preview(16)[-1, :7].astype(float))
            assert told[2] - labeller.push_start()[2] < 0.5 * (high[2] - labeller.push_start()[2])
        if phase in ("descend", "back"):  # the next 16 labels turn the hand most of the way to the push's
            # rotation
            _, now = labeller.ik.site_pose(robot.observe().state[:7].astype(float))
            _, told = labeller.ik.site_pose(labeller.preview(16)[-1, :7].astype(float))
            assert _rotation_error(told, push) <= 0.5 * _rotation_error(now, push) + 0.01


def _phases_to_success(robot: SimRobot, expert: PushThenGraspExpert, ticks: int) -> list[str]:
    """Let the expert drive from the state it is in until it is done (at most `ticks`); asserts that it
    lifted object 0 and returns the phases it went through, in order."""
    phases: list[str] = []
    observation = robot.observe()
    for _ in range(ticks):
        action = expert.act(observation)
        if not phases or phases[-1] != expert.phase:
            phases.append(expert.phase)
        robot.act(action)
        observation = robot.observe()
        if expert.done:
            break
    assert expert.done and not expert.failed, expert.failure_reason
    assert robot.grasp_success(0)
    return phases


def test_from_low_over_the_object_it_hops_back_behind_it_pushes_and_grasps() -> None:
    with SimRobot(sample_scene(0, "seen", 3, flat_target=True), image_size=16, cameras=()) as robot:
        expert = _hand_moved_to(robot, (0.01, 0.07, 0.03), 0.3)
        # A push re-planned after a takeover starts at the push's speed and slows to a stop (ease_out),
        # so from here it takes longer than a demo from home; 30 s.
        phases = _phases_to_success(robot, expert, 600)
        assert phases[:4] == ["clear", "back", "descend", "push1"], phases  # no rise and approach anew


def test_a_pushing_hand_whose_command_leads_it_is_labelled_push() -> None:
    """Under the push's load the commanded pose leads the hand by about 1 cm; the labels go by where
    the hand is, so a hand pushing the plate with its command 1.5 cm further ahead pushes on (the
    commanded pose alone lies past the push line's end, which was labelled "hop back")."""
    with SimRobot(sample_scene(0, "seen", 3, flat_target=True), image_size=16, cameras=()) as robot:
        expert = PushThenGraspExpert(robot, 0)
        observation, pushing = robot.observe(), 0
        while pushing < 30:
            action = expert.act(observation)
            pushing += expert.phase == "push1"
            robot.act(action)
            observation = robot.observe()
        assert robot.in_contact_with_hand(0)
        site, rotation = expert.ik.site_pose(action[:7].astype(float))
        ahead = solve_ik(expert.ik, action[:7].astype(float), site + [0.0, PUSH_SIDE * 0.015, 0.0], rotation)
        robot.act(np.concatenate([ahead, action[7:]]).astype(np.float32))  # something else drove
        expert.act(robot.observe())
        assert expert.phase == "push1"


@pytest.mark.parametrize(
    ("back", "up", "side"),
    [
        (0.05, 0.025, 0.0),  # 5 cm back and 2.5 cm off the straight way in, where students arrive
        (0.0, 0.03, 0.0),  # at the grasp's depth, 3 cm above the grasp point
        (0.0, -0.03, 0.0),  # ... 3 cm below it
        (0.0, 0.0, 0.03),  # ... 3 cm beside it along the edge
    ],
)
def test_near_the_edge_grasp_off_its_line_it_moves_in_from_there_and_lifts(
    back: float, up: float, side: float
) -> None:
    """A hand in the edge grasp's rotation off its straight way in (where learned students arrive)
    moves in from there, closes and lifts; no rise and line-up."""
    with SimRobot(sample_scene(0, "seen", 3, flat_target=True), image_size=16, cameras=()) as robot:
        expert = PushThenGraspExpert(robot, 0)
        observation = robot.observe()
        while expert.phase != "move_in":
            robot.act(expert.act(observation))
            observation = robot.observe()
        plan = expert.plan
        assert plan is not None
        approach = plan.pose.grasp - plan.pose.entry[-1]
        approach /= np.linalg.norm(approach)
        above = UP - (UP @ approach) * approach
        above /= np.linalg.norm(above)
        goal = plan.pose.grasp - back * approach + up * above + side * np.cross(approach, above)
        q = solve_ik(expert.ik, observation.state[:7].astype(float), goal, plan.pose.rotation)
        for _ in range(40):  # something else drove the hand there
            robot.act(np.concatenate([q, observation.state[7:]]).astype(np.float32))
        phases = _phases_to_success(robot, expert, MAX_TICKS)
        assert phases[:2] == ["move_in", "close"], phases
