"""grasp / push_then_grasp: grounding, closed-loop control, success by ground truth or verifier."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import py_trees
from py_trees.common import Status

from dexagent.hardware import ARM_DOF, Box, object_under_box
from dexagent.skills import REGISTRY
from dexagent.skills.planning import Instruction
from tests.skills.conftest import (
    ClosingController,
    FakeScene,
    KinematicArm,
    ScriptedPlanner,
    make_context,
    tick_until_done,
)

CUP = Box(8, 8, 16, 16)  # object 0 in the kinematic arm's segmentation


def blackboard(key: str) -> object:
    return py_trees.blackboard.Blackboard.get(key)


def test_the_grounded_object_is_the_one_most_of_the_box_covers(arm: KinematicArm) -> None:
    segmentation = arm.observe().head_segmentation
    assert object_under_box(segmentation, Box(6, 6, 18, 18)) == 0
    assert object_under_box(segmentation, Box(19, 19, 32, 32)) == 1
    assert object_under_box(segmentation, Box(0, 0, 4, 4)) is None


def test_grasp_succeeds_by_ground_truth(arm: KinematicArm) -> None:
    scene = FakeScene(success_after_ticks={0: 10}, arm=arm)
    controller = ClosingController()
    context = make_context(
        arm, ScriptedPlanner(boxes={"cup": CUP}), controller, success_check="ground_truth", scene=scene
    )
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "cup"}, context)
    tick_until_done(leaf, context)
    assert leaf.status == Status.SUCCESS
    assert controller.resets == [CUP] and controller.closed == 1
    assert blackboard("/held_object") == "cup" and blackboard("/held_index") == 0
    (record,) = blackboard("/history")  # type: ignore[misc]
    assert record.success and record.instruction.text == "grasp cup"


def test_grasp_by_verifier_asks_once_the_hand_closed_and_the_arm_rests(arm: KinematicArm) -> None:
    planner = ScriptedPlanner(boxes={"cup": CUP}, verdicts=[False, True])
    context = make_context(arm, planner, ClosingController())
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "cup", "verify_interval_s": 0.5}, context)
    tick_until_done(leaf, context)
    assert leaf.status == Status.SUCCESS
    assert planner.calls.count("verify_grasp") == 2
    verified = [fields for name, fields in context.events if name == "verified"]  # type: ignore[attr-defined]
    assert [v["ok"] for v in verified] == [False, True]


def test_grasp_fails_with_the_planners_reason_when_it_cannot_ground(arm: KinematicArm) -> None:
    controller = ClosingController()
    context = make_context(arm, ScriptedPlanner(), controller)
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "the red cup"}, context)
    tick_until_done(leaf, context)
    assert leaf.status == Status.FAILURE
    assert blackboard("/failure_reason") == (
        "grasp: planner could not ground 'the red cup': no the red cup in the image"
    )
    assert controller.resets == []  # never started the controller
    (record,) = blackboard("/history")  # type: ignore[misc]
    assert not record.success and "could not ground" in record.reason


def test_grasp_times_out_in_sim_time_and_records_the_attempt(arm: KinematicArm) -> None:
    scene = FakeScene(arm=arm)  # never succeeds
    context = make_context(
        arm,
        ScriptedPlanner(boxes={"cup": CUP}),
        ClosingController(),
        success_check="ground_truth",
        scene=scene,
    )
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "cup", "budget_s": 1.0}, context)
    ticks = tick_until_done(leaf, context)
    assert leaf.status == Status.FAILURE and ticks == 21
    assert blackboard("/failure_reason") == "grasp: timeout after 1.0 s"
    assert blackboard("/history")[-1].reason == "timeout after 1.0 s"  # type: ignore[index]


def test_ground_truth_needs_an_object_in_the_grounded_box(arm: KinematicArm) -> None:
    scene = FakeScene(arm=arm)
    planner = ScriptedPlanner(boxes={"air": Box(0, 0, 4, 4)})
    context = make_context(arm, planner, ClosingController(), success_check="ground_truth", scene=scene)
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "air"}, context)
    tick_until_done(leaf, context)
    assert "no object in the grounded box (0, 0, 4, 4) for 'air'" in str(blackboard("/failure_reason"))


def test_a_preempted_grasp_closes_the_controller_and_holds_the_arm(arm: KinematicArm) -> None:
    controller = ClosingController(close_ticks=100)
    context = make_context(arm, ScriptedPlanner(boxes={"cup": CUP}), controller)
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "cup"}, context)
    for _ in range(6):
        leaf.tick_once()
    assert controller.resets and leaf.status == Status.RUNNING
    last = arm.actions[-1].copy()
    leaf.stop(Status.INVALID)  # what a parent does when it preempts the leaf
    assert controller.closed == 1
    np.testing.assert_array_equal(arm.actions[-1], last)  # the hold repeats the last safe command


def test_grounding_never_blocks_a_tick_and_the_arm_holds_meanwhile(arm: KinematicArm) -> None:
    gate = threading.Event()
    controller = ClosingController()
    context = make_context(arm, ScriptedPlanner(boxes={"cup": CUP}, gate=gate), controller, threaded=True)
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "cup"}, context)
    for _ in range(4):
        leaf.tick_once()
        assert leaf.status == Status.RUNNING
    assert controller.resets == []
    assert len(arm.actions) == 4 and all(np.array_equal(a, arm.spec.home) for a in arm.actions)
    gate.set()
    leaf.stop(Status.INVALID)
    context.shutdown()


def test_a_for_each_instruction_on_the_blackboard_drives_push_then_grasp(arm: KinematicArm) -> None:
    py_trees.blackboard.Blackboard.set(
        "/instruction", Instruction(skill="push_then_grasp", target="plate", text="push then grasp the plate")
    )
    scene = FakeScene(success_after_ticks={1: 5}, arm=arm)
    requested: list[str] = []
    controller = ClosingController()
    context = make_context(
        arm,
        ScriptedPlanner(boxes={"plate": Box(20, 20, 28, 28)}),
        controller,
        success_check="ground_truth",
        scene=scene,
    )
    context.controllers = lambda skill: requested.append(skill) or controller  # type: ignore[func-returns-value]
    leaf = REGISTRY.get("push_then_grasp").build("ptg", {"target": "{instruction}"}, context)
    tick_until_done(leaf, context)
    assert leaf.status == Status.SUCCESS
    assert requested == ["push_then_grasp"]
    assert blackboard("/held_index") == 1
    assert arm.actions[-1][ARM_DOF:].max() < 1.0  # the controller drove the hand


def test_grasp_leaves_an_object_the_planner_marked_for_push_then_grasp(arm: KinematicArm) -> None:
    py_trees.blackboard.Blackboard.set(
        "/instruction", Instruction(skill="push_then_grasp", target="plate", text="push then grasp the plate")
    )
    planner = ScriptedPlanner(boxes={"plate": Box(20, 20, 28, 28)})
    context = make_context(arm, planner, ClosingController())
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "{instruction}"}, context)
    assert tick_until_done(leaf, context) == 1
    assert leaf.status == Status.FAILURE
    assert blackboard("/failure_reason") == "grasp: the planner chose push_then_grasp for 'plate'"
    assert planner.calls == [] and not py_trees.blackboard.Blackboard.exists("/history")


def test_grasp_grounds_with_the_planners_own_instruction(arm: KinematicArm) -> None:
    planned = Instruction(target="cup", text="grasp the cup by its handle")
    py_trees.blackboard.Blackboard.set("/instruction", planned)
    scene = FakeScene(success_after_ticks={0: 3}, arm=arm)
    context = make_context(
        arm,
        ScriptedPlanner(boxes={"cup": CUP}),
        ClosingController(),
        success_check="ground_truth",
        scene=scene,
    )
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "{instruction}"}, context)
    tick_until_done(leaf, context)
    assert blackboard("/history")[-1].instruction == planned  # type: ignore[index]


def test_a_slow_controller_start_never_blocks_and_is_closed_if_preempted(arm: KinematicArm) -> None:
    gate, entered = threading.Event(), threading.Event()
    controller = ClosingController()
    context = make_context(arm, ScriptedPlanner(boxes={"cup": CUP}), controller, threaded=True)

    def slow_factory(skill: str) -> ClosingController:
        entered.set()
        assert gate.wait(5.0)  # e.g. loading a checkpoint
        return controller

    context.controllers = slow_factory  # type: ignore[assignment]
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "cup"}, context)
    for _ in range(30):
        leaf.tick_once()
        if leaf.feedback_message == "starting the controller":
            break
        time.sleep(0.01)
    assert leaf.feedback_message == "starting the controller" and leaf.status == Status.RUNNING
    assert entered.wait(5.0)  # the worker is inside the slow start now
    leaf.tick_once()
    assert leaf.status == Status.RUNNING and controller.resets == []
    leaf.stop(Status.INVALID)
    gate.set()
    deadline = time.monotonic() + 5.0
    while controller.closed == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert controller.resets == [CUP] and controller.closed == 1  # started late, then closed
    context.shutdown()


def test_a_late_start_of_a_preempted_attempt_leaves_the_next_attempts_controller_alone(
    arm: KinematicArm,
) -> None:
    """One controller serves every attempt of a run: an attempt preempted while its start waited
    (e.g. on a slow first mask) neither resets nor closes it once the next attempt has started it."""
    gate, entered = threading.Event(), threading.Event()
    controller = ClosingController(close_ticks=1000)  # still closing the hand: the attempt runs on
    context = make_context(arm, ScriptedPlanner(boxes={"cup": CUP}), controller, threaded=True)
    calls = 0

    def first_start_is_slow(skill: str) -> ClosingController:
        nonlocal calls
        calls += 1
        if calls == 1:
            entered.set()
            assert gate.wait(5.0)
        return controller

    context.controllers = first_start_is_slow  # type: ignore[assignment]
    leaf = REGISTRY.get("grasp").build("grasp", {"target": "cup"}, context)

    def tick_until(done: Callable[[], bool]) -> None:
        for _ in range(200):
            leaf.tick_once()
            if done():
                return
            time.sleep(0.01)
        raise AssertionError(f"never happened; feedback {leaf.feedback_message!r}")

    tick_until(entered.is_set)
    leaf.stop(Status.INVALID)  # preempted while its controller starts
    tick_until(lambda: controller.ticks > 0)  # the next attempt started the controller and acts
    assert controller.resets == [CUP]
    gate.set()  # the first attempt's start finishes now, too late
    time.sleep(0.2)
    leaf.tick_once()
    assert leaf.status == Status.RUNNING and controller.resets == [CUP] and controller.closed == 0
    leaf.stop(Status.INVALID)
    assert controller.closed == 1
    context.shutdown()
