"""Plan -> tree: plan validation against the registry and the choice of the bundled tree."""

from __future__ import annotations

import numpy as np
import py_trees
import pytest
from pydantic import BaseModel

from dexagent.agent.compile import PlanError, choose_tree, compile_run, validate_plan
from dexagent.hardware import ARM_DOF, Box, Observation, RobotSpec, SafeRobot
from dexagent.skills import REGISTRY, SkillContext, SkillInfo, SkillRegistry
from dexagent.skills.planning import Instruction, Plan, Verdict

ACTION_DIM = 13  # the sim robot's joints: 7 arm + 6 hand

CUP = Instruction(target="the red cup", text="grasp the red cup")
PLATE = Instruction(skill="push_then_grasp", target="the plate", text="push the plate, then grasp it")


@pytest.mark.parametrize(
    ("prompt", "plan", "tree"),
    [
        ("clear the table", Plan(instructions=(CUP, PLATE)), "clear_table"),
        ("Tidy up the table", Plan(instructions=()), "clear_table"),
        ("grasp all bottles", Plan(instructions=(CUP,)), "grasp_all"),
        ("grasp every green object", Plan(instructions=(CUP, CUP)), "grasp_all"),
        ("grasp the red cup", Plan(instructions=(CUP,)), "grasp_object"),
        ("grasp the plate", Plan(instructions=(PLATE,)), "nonprehensile_grasp"),
    ],
)
def test_the_prompt_and_first_plan_choose_the_bundled_tree(prompt: str, plan: Plan, tree: str) -> None:
    assert choose_tree(prompt, plan)[0] == tree


def test_a_plan_with_a_skill_the_registry_lacks_is_rejected() -> None:
    registry = SkillRegistry()
    registry.register(REGISTRY.get("grasp"))
    validate_plan(Plan(instructions=(CUP,)), registry)
    with pytest.raises(PlanError, match=r"instruction 2 \('push the plate, then grasp it'\): unknown skill"):
        validate_plan(Plan(instructions=(CUP, PLATE)), registry)


class _Nothing(BaseModel):
    target: str


def test_a_plan_naming_a_condition_is_rejected() -> None:
    registry = SkillRegistry()
    registry.register(
        SkillInfo("grasp", "Pretend condition.", "condition", _Nothing, REGISTRY.get("grasp").factory)
    )
    with pytest.raises(PlanError, match="'grasp' is a condition"):
        validate_plan(Plan(instructions=(CUP,)), registry)


class _Arm:
    spec = RobotSpec(
        joint_names=tuple(f"j{i}" for i in range(ACTION_DIM)),
        lower=np.array([-3.0] * ARM_DOF + [0.0] * 6, np.float32),
        upper=np.array([3.0] * ARM_DOF + [1.0] * 6, np.float32),
        home=np.array([0.0] * ARM_DOF + [1.0] * 6, np.float32),
    )

    def observe(self) -> Observation:
        image = np.zeros((8, 8, 3), np.uint8)
        return Observation(image, image, self.spec.home.copy(), 0.0)

    def act(self, action: np.ndarray) -> None: ...
    def home(self) -> None: ...
    def close(self) -> None: ...


class _Planner:
    def propose(self, prompt, observation, history):  # type: ignore[no-untyped-def]
        return Plan(instructions=(CUP,))

    def ground(self, instruction, observation):  # type: ignore[no-untyped-def]
        return Box(0, 0, 4, 4)

    def verify_grasp(self, instruction, observation):  # type: ignore[no-untyped-def]
        return Verdict(ok=True)

    def is_complete(self, prompt, first, observation):  # type: ignore[no-untyped-def]
        return Verdict(ok=True)


def test_compile_puts_the_plan_on_the_blackboard_and_builds_the_tree() -> None:
    py_trees.blackboard.Blackboard.clear()
    arm = _Arm()
    context = SkillContext(robot=SafeRobot(arm), planner=_Planner(), controllers=lambda skill: None)  # type: ignore[arg-type,return-value]
    first = arm.observe()
    compiled = compile_run("grasp the red cup", Plan(instructions=(CUP,)), first, context)
    assert compiled.tree_name == "grasp_object"
    board = py_trees.blackboard.Blackboard
    assert board.get("/prompt") == "grasp the red cup"
    assert board.get("/instructions") == [CUP] and board.get("/target") == "the red cup"
    assert board.get("/first_observation") is first
    names = [node.name for node in compiled.root.iterate()]
    assert any(name.startswith("plan(") for name in names)
    assert any(name.startswith("grasp(") for name in names)
    context.shutdown()
