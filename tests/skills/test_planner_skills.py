"""plan, completion_check and the conditions holding / target_visible."""

from __future__ import annotations

import numpy as np
import py_trees
from py_trees.common import Status

from dexagent.hardware import ARM_DOF, Box
from dexagent.skills import REGISTRY
from dexagent.skills.planning import AttemptRecord, Instruction
from tests.skills.conftest import (
    ClosingController,
    FakeScene,
    KinematicArm,
    ScriptedPlanner,
    make_context,
    tick_until_done,
)

board = py_trees.blackboard.Blackboard
CUP = Instruction(target="the cup", text="grasp the cup")
PLATE = Instruction(skill="push_then_grasp", target="the plate", text="push then grasp the plate")


def test_plan_writes_the_instructions_and_passes_the_history(arm: KinematicArm) -> None:
    planner = ScriptedPlanner(plan=[CUP, PLATE])
    board.set("/history", [AttemptRecord(instruction=CUP, success=False, reason="slipped")])
    context = make_context(arm, planner, ClosingController())
    leaf = REGISTRY.get("plan").build("plan", {"prompt": "clear the table"}, context)
    tick_until_done(leaf, context)
    assert leaf.status == Status.SUCCESS
    assert board.get("/instructions") == [CUP, PLATE]
    assert board.get("/instruction") == CUP and board.get("/target") == "the cup"
    assert board.get("/plan").reasoning == "1 attempts so far"


def test_plan_can_require_instructions(arm: KinematicArm) -> None:
    context = make_context(arm, ScriptedPlanner(plan=[]), ClosingController())
    leaf = REGISTRY.get("plan").build("plan", {"prompt": "clear the table", "allow_empty": False}, context)
    tick_until_done(leaf, context)
    assert leaf.status == Status.FAILURE
    assert board.get("/failure_reason") == "plan: the planner proposed no instructions"


def test_completion_check_succeeds_or_fails_with_the_models_reasoning(arm: KinematicArm) -> None:
    for complete, status in ((True, Status.SUCCESS), (False, Status.FAILURE)):
        context = make_context(arm, ScriptedPlanner(complete=complete), ClosingController())
        leaf = REGISTRY.get("completion_check").build("done?", {"prompt": "{prompt}"}, context)
        board.set("/prompt", "clear the table")
        tick_until_done(leaf, context)
        assert leaf.status == status
        assert board.get("/complete").ok is complete
    assert board.get("/failure_reason") == "completion_check: not complete: a cup is left"


def test_holding_checks_the_held_object_against_ground_truth(arm: KinematicArm) -> None:
    scene = FakeScene(success_after_ticks={0: 0}, arm=arm)
    context = make_context(arm, ScriptedPlanner(), ClosingController(), scene=scene)
    holding = REGISTRY.get("holding")
    leaf = holding.build("holding?", {"target": "cup"}, context)
    leaf.tick_once()
    assert leaf.status == Status.FAILURE and board.get("/failure_reason") == "holding: nothing is held"
    board.set("/held_object", "cup")
    board.set("/held_index", 0)
    leaf.tick_once()
    assert leaf.status == Status.SUCCESS
    other = holding.build("holding bottle?", {"target": "bottle"}, context)
    other.tick_once()
    assert other.status == Status.FAILURE
    scene.success_after_ticks.clear()  # the object slipped out
    leaf.tick_once()
    assert board.get("/failure_reason") == "holding: 'cup' is no longer in the hand"


def test_holding_on_a_robot_uses_the_closed_hand(arm: KinematicArm) -> None:
    context = make_context(arm, ScriptedPlanner(), ClosingController())
    board.set("/held_object", "cup")
    leaf = REGISTRY.get("holding").build("holding?", {}, context)
    leaf.tick_once()
    assert leaf.status == Status.FAILURE  # the kinematic arm's hand is open
    for _ in range(30):  # the safety layer limits each step: close over a few ticks
        context.act(np.array([0.0] * ARM_DOF + [0.1] * 6, np.float32))  # the hand is commanded closed
    arm.state = np.array([0.0] * ARM_DOF + [0.8] * 6, np.float32)  # and its fingers stop on the cup
    leaf.tick_once()
    assert leaf.status == Status.SUCCESS
    for _ in range(30):
        context.act(np.array([0.0] * ARM_DOF + [1.0] * 6, np.float32))  # commanded open again
    leaf.tick_once()
    assert leaf.status == Status.FAILURE


def test_target_visible_grounds_and_checks_the_box_holds_an_object(arm: KinematicArm) -> None:
    planner = ScriptedPlanner(boxes={"cup": Box(8, 8, 16, 16), "ghost": Box(0, 0, 4, 4)})
    context = make_context(arm, planner, ClosingController())
    visible = REGISTRY.get("target_visible")
    results = {}
    for target in ("cup", "ghost", "unicorn"):
        leaf = visible.build(f"{target}?", {"target": target}, context)
        tick_until_done(leaf, context)
        results[target] = (
            leaf.status,
            board.get("/failure_reason") if leaf.status == Status.FAILURE else None,
        )
    assert results["cup"] == (Status.SUCCESS, None)
    assert results["ghost"][1] == "target_visible: the box (0, 0, 4, 4) for 'ghost' holds no object"
    assert (
        results["unicorn"][1] == "target_visible: planner could not find 'unicorn': no unicorn in the image"
    )
