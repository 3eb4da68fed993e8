"""Conditions a tree needs: `holding(target)` and `target_visible(target)`. Both answer without blocking."""

from __future__ import annotations

from concurrent.futures import Future

from py_trees.common import Status

from dexagent.hardware import Box, object_under_box
from dexagent.skills import blackboard_keys as keys
from dexagent.skills.base import SkillBehaviour
from dexagent.skills.bundled import HOLDING, TARGET_VISIBLE, HoldingParams, TargetVisibleParams
from dexagent.skills.planning import Instruction


class Holding(SkillBehaviour):
    """The `holding` leaf: the sim's contacts when there is a scene, else the commanded hand."""

    info = HOLDING
    READS = HOLDING.reads

    def poll(self) -> Status:
        params = self.params
        assert isinstance(params, HoldingParams)
        held = self.read(keys.HELD_OBJECT)
        if held is None:
            return self.fail("nothing is held")
        if params.target is not None and held != params.target:
            return self.fail(f"holding {held!r}, not {params.target!r}")
        scene = self.context.scene
        index = self.read(keys.HELD_INDEX)
        if scene is not None and index is not None:
            # The sim can tell a slipped object from a held one; on a robot the closed hand is our evidence.
            if not (scene.in_contact_with_hand(index) and scene.is_lifted(index)):
                return self.fail(f"{held!r} is no longer in the hand")
            return Status.SUCCESS
        if not self.hand_is_closed(self.context.observation()):
            return self.fail(f"the hand is open; {held!r} is not held")
        return Status.SUCCESS


class TargetVisible(SkillBehaviour):
    """The `target_visible` leaf: the planner grounds the target; in sim the box must hold an object."""

    info = TARGET_VISIBLE

    def start(self) -> None:
        params = self.params
        assert isinstance(params, TargetVisibleParams)
        self.observation = self.context.observation()
        instruction = Instruction(target=params.target, text=f"find {params.target}")
        self.future: Future[Box] = self.submit(self.context.planner.ground, instruction, self.observation)

    def poll(self) -> Status:
        params = self.params
        assert isinstance(params, TargetVisibleParams)
        self.context.hold()
        if not self.future.done():
            return Status.RUNNING
        try:
            box = self.future.result()
        except Exception as error:  # the planner is an outer boundary (network, model, unknown target)
            return self.fail(f"planner could not find {params.target!r}: {error}")
        segmentation = self.observation.head_segmentation
        if segmentation is not None and object_under_box(segmentation, box) is None:
            return self.fail(f"the box {box.as_tuple()} for {params.target!r} holds no object")
        return Status.SUCCESS
