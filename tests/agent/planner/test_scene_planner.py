"""The `scene` planner on real MuJoCo scenes: plans, boxes, verdicts and completion from ground truth."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

from dexagent.agent.planner import PlannerConfigError, PlannerError, ScenePlanner, build_planner
from dexagent.hardware import Box
from dexagent.hardware.sim.expert import GraspExpert
from dexagent.hardware.sim.robot import SceneObject, SimRobot
from dexagent.hardware.sim.scenes import sample_scene
from dexagent.skills.planning import AttemptRecord, Instruction, Planner

Predicate = Callable[[SceneObject], bool]


def _find_seed(predicate: Callable[[list[SceneObject]], bool], **scene_args: object) -> int:
    """The first seed whose scene satisfies `predicate` (deterministic: scenes are seeded)."""
    for seed in range(500):
        scene = sample_scene(seed, **scene_args)  # type: ignore[arg-type]
        objects = [
            SceneObject(i, p.spec.name, p.spec.category, p.spec.colour, p.spec.tags, p.spec.flat)
            for i, p in enumerate(scene.objects)
        ]
        if predicate(objects):
            return seed
    raise AssertionError("no scene in 500 seeds has the objects this test needs")


@pytest.fixture
def robot_for() -> Iterator[Callable[..., SimRobot]]:
    robots: list[SimRobot] = []

    def make(seed: int, **scene_args: object) -> SimRobot:
        robots.append(SimRobot(sample_scene(seed, **scene_args), image_size=128))  # type: ignore[arg-type]
        return robots[-1]

    yield make
    for robot in robots:
        robot.close()


def _index(planner: ScenePlanner, target: str) -> int:
    return planner.resolve(target)


GROUP_PROMPTS: list[tuple[str, Predicate]] = [
    ("clear the table", lambda o: True),
    ("grasp all bottles", lambda o: o.category == "bottle"),
    ("Grasp all green objects.", lambda o: o.colour == "green"),
    ("grasp all food", lambda o: "food" in o.tags),
]


@pytest.mark.parametrize(("prompt", "wanted"), GROUP_PROMPTS, ids=[p for p, _ in GROUP_PROMPTS])
def test_group_prompt_plans_every_match_and_completes_when_they_are_gone(
    prompt: str, wanted: Predicate, robot_for: Callable[..., SimRobot]
) -> None:
    # A scene with at least two matching objects and (unless clearing) one that does not match.
    clearing = prompt == "clear the table"
    seed = _find_seed(lambda objs: sum(map(wanted, objs)) >= 2 and (clearing or not all(map(wanted, objs))))
    robot = robot_for(seed)
    planner = ScenePlanner(robot)
    observation = robot.observe()
    matching = [o.index for o in robot.objects if wanted(o)]

    plan = planner.propose(prompt, observation, [])
    assert sorted(_index(planner, i.target) for i in plan.instructions) == matching
    assert not planner.is_complete(prompt, observation, observation).ok

    for index in matching:
        robot.remove_object(index)
    after = robot.observe()
    assert planner.propose(prompt, after, []).instructions == ()
    verdict = planner.is_complete(prompt, observation, after)
    assert verdict.ok, verdict.reasoning
    assert verdict.reasoning.startswith("no ") and "none of all" not in verdict.reasoning
    others = [o.index for o in robot.objects if not wanted(o)]
    assert all(planner.on_table(i) for i in others)  # the rest of the scene was not asked for


def test_flat_objects_get_push_then_grasp(robot_for: Callable[..., SimRobot]) -> None:
    robot = robot_for(3, flat_target=True)
    planner = ScenePlanner(robot)
    plan = planner.propose("clear the table", robot.observe(), [])
    skills = {_index(planner, i.target): i.skill for i in plan.instructions}
    assert skills[0] == "push_then_grasp"  # flat_target puts a flat object first
    for obj in robot.objects:
        assert skills[obj.index] == ("push_then_grasp" if obj.flat else "grasp")


def test_ground_returns_the_ground_truth_box(robot_for: Callable[..., SimRobot]) -> None:
    robot = robot_for(1)
    planner = ScenePlanner(robot)
    observation = robot.observe()
    for instruction in planner.propose("clear the table", observation, []).instructions:
        index = _index(planner, instruction.target)
        box = planner.ground(instruction, observation)
        truth = robot.object_box(index)
        assert truth is not None and box == truth
        assert box == Box.from_mask(observation.head_segmentation == index)


def test_box_noise_is_seeded_and_stays_near_the_truth(robot_for: Callable[..., SimRobot]) -> None:
    robot = robot_for(1)
    observation = robot.observe()
    instruction = ScenePlanner(robot).propose("clear the table", observation, []).instructions[0]
    truth = ScenePlanner(robot).ground(instruction, observation)
    first = ScenePlanner(robot, box_noise=0.1, seed=7).ground(instruction, observation)
    again = ScenePlanner(robot, box_noise=0.1, seed=7).ground(instruction, observation)
    assert first == again and first != truth
    assert first.iou(truth) > 0.5
    assert 0 <= first.x1 < first.x2 <= 128 and 0 <= first.y1 < first.y2 <= 128


def test_singular_prompt_targets_one_matching_object(robot_for: Callable[..., SimRobot]) -> None:
    seed = _find_seed(lambda objs: any(o.category == "cup" and o.colour == "red" for o in objs))
    robot = robot_for(seed)
    planner = ScenePlanner(robot)
    observation = robot.observe()
    plan = planner.propose("grasp the red cup", observation, [])
    assert len(plan.instructions) == 1
    target = robot.objects[_index(planner, plan.instructions[0].target)]
    assert (target.category, target.colour) == ("cup", "red")
    assert not planner.is_complete("grasp the red cup", observation, observation).ok
    robot.remove_object(target.index)
    assert planner.is_complete("grasp the red cup", observation, robot.observe()).ok
    assert planner.propose("grasp the red cup", robot.observe(), []).instructions == ()


def test_pick_up_by_object_type(robot_for: Callable[..., SimRobot]) -> None:
    seed = _find_seed(lambda objs: any("apple" in o.tags for o in objs))
    robot = robot_for(seed)
    planner = ScenePlanner(robot)
    plan = planner.propose("Please pick up the apple", robot.observe(), [])
    assert "apple" in robot.objects[_index(planner, plan.instructions[0].target)].tags


def test_failed_attempts_move_an_object_back_and_then_drop_it(robot_for: Callable[..., SimRobot]) -> None:
    robot = robot_for(1)
    planner = ScenePlanner(robot, max_failures=2)
    observation = robot.observe()
    first = planner.propose("clear the table", observation, []).instructions[0]
    failed = AttemptRecord(instruction=first, success=False, reason="grasp: timeout")
    replanned = planner.propose("clear the table", observation, [failed])
    assert replanned.instructions[-1] == first and replanned.instructions[0] != first
    dropped = planner.propose("clear the table", observation, [failed, failed])
    assert first not in dropped.instructions
    assert "gave up after 2 failed attempts" in dropped.reasoning


def test_verify_grasp_follows_a_real_scripted_grasp(robot_for: Callable[..., SimRobot]) -> None:
    robot = robot_for(0)
    planner = ScenePlanner(robot)
    observation = robot.observe()
    instruction = next(
        i for i in planner.propose("clear the table", observation, []).instructions if i.skill == "grasp"
    )
    assert not planner.verify_grasp(instruction, observation).ok
    expert = GraspExpert(robot, _index(planner, instruction.target))
    for _ in range(400):
        if expert.done:
            break
        robot.act(expert.act(observation))
    assert expert.done and not expert.failed, expert.failure_reason
    verdict = planner.verify_grasp(instruction, robot.observe())
    assert verdict.ok, verdict.reasoning
    assert "touching the hand" in verdict.reasoning
    # Held in the hand counts as off the table for completion.
    assert not planner.on_table(_index(planner, instruction.target))


def test_unknown_prompt_lists_the_grammar(robot_for: Callable[..., SimRobot]) -> None:
    robot = robot_for(0)
    planner = ScenePlanner(robot)
    with pytest.raises(PlannerError, match="does not understand the prompt 'make me a sandwich'") as caught:
        planner.propose("make me a sandwich", robot.observe(), [])
    assert "'clear the table'" in str(caught.value) and "grasp all <colour> objects" in str(caught.value)
    with pytest.raises(PlannerError, match="no object kind or colour is called 'unicorns'"):
        planner.is_complete("grasp all unicorns", robot.observe(), robot.observe())


def test_singular_prompt_with_no_match_names_the_objects(robot_for: Callable[..., SimRobot]) -> None:
    seed = _find_seed(lambda objs: not any(o.category == "book" for o in objs))
    robot = robot_for(seed)
    with pytest.raises(PlannerError, match="no object in the scene is the book") as caught:
        ScenePlanner(robot).propose("grasp the book", robot.observe(), [])
    assert robot.objects[0].name.replace("_", " ") in str(caught.value)


def test_targets_resolve_by_name_or_description_or_fail_clearly(robot_for: Callable[..., SimRobot]) -> None:
    robot = robot_for(0)
    planner = ScenePlanner(robot)
    obj = robot.objects[2]
    assert planner.resolve(obj.name) == obj.index
    assert planner.resolve(f"The {obj.name.replace('_', ' ')}") == obj.index
    assert robot.objects[planner.resolve(f"the {obj.category}")].category == obj.category
    with pytest.raises(PlannerError, match="no object in the scene matches 'the cup on the far left'; the"):
        planner.ground(Instruction(target="the cup on the far left", text="grasp it"), robot.observe())


def test_group_prompt_with_no_match_is_already_complete(robot_for: Callable[..., SimRobot]) -> None:
    seed = _find_seed(lambda objs: not any(o.category == "book" for o in objs))
    robot = robot_for(seed)
    planner = ScenePlanner(robot)
    observation = robot.observe()
    assert planner.propose("grasp all books", observation, []).instructions == ()
    assert planner.is_complete("grasp all books", observation, observation).ok


def test_factory_builds_the_scene_planner_and_rejects_bad_options(robot_for: Callable[..., SimRobot]) -> None:
    robot = robot_for(0)
    planner = build_planner("scene", robot, box_noise=0.05)
    assert isinstance(planner, ScenePlanner) and isinstance(planner, Planner)
    with pytest.raises(PlannerConfigError, match="needs the sim robot"):
        build_planner("scene")
    with pytest.raises(PlannerConfigError, match=r"unknown scene planner option 'noise' \(known: box_noise"):
        build_planner("scene", robot, noise=0.1)
    with pytest.raises(PlannerConfigError, match="unknown planner 'gpt'; choose one of scene, openai"):
        build_planner("gpt", robot)
    with pytest.raises(PlannerError, match="box_noise.: Input should be greater than or equal to 0"):
        build_planner("scene", robot, box_noise=-1)
