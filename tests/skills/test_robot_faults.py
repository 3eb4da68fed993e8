"""A device fault while a skill acts fails that skill (the tree can recover); an emergency stop does not."""

from __future__ import annotations

import numpy as np
import py_trees
import pytest
from py_trees.common import Status
from pydantic import BaseModel

from dexagent.hardware.errors import DeviceTimeoutError, EmergencyStopError
from dexagent.skills import SkillRegistry
from dexagent.skills.base import SkillBehaviour, skill
from tests.skills.conftest import ClosingController, KinematicArm, ScriptedPlanner, make_context

LOCAL = SkillRegistry()


class NoParams(BaseModel):
    budget_s: float = 10.0


@skill("hold_still", NoParams, registry=LOCAL)
class HoldStill(SkillBehaviour):
    """Hold position every tick."""

    def poll(self) -> Status:
        self.context.hold()
        return Status.RUNNING


class FaultyArm(KinematicArm):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def act(self, action: np.ndarray) -> None:
        raise self.error


def _leaf(arm: KinematicArm) -> tuple[SkillBehaviour, object]:
    context = make_context(arm, ScriptedPlanner(), ClosingController())
    leaf = LOCAL.get("hold_still").build("hold", {}, context)
    assert isinstance(leaf, SkillBehaviour)
    return leaf, context


def test_a_driver_fault_fails_the_skill_with_the_devices_message() -> None:
    leaf, context = _leaf(FaultyArm(DeviceTimeoutError("hand", "no answer to ANGLE_SET within 0.2 s")))
    fallback = py_trees.behaviours.Success("home")
    tree = py_trees.composites.Selector("recover", memory=False, children=[leaf, fallback])
    tree.tick_once()
    assert leaf.status == Status.FAILURE and tree.status == Status.SUCCESS  # the fallback ran
    assert leaf.reason == "hold_still: robot fault: hand: no answer to ANGLE_SET within 0.2 s"
    fault = {"skill": "hold_still", "node": "hold", "error": "hand: no answer to ANGLE_SET within 0.2 s"}
    assert ("robot_fault", fault) in context.events  # type: ignore[attr-defined]


def test_an_emergency_stop_is_not_a_skill_failure_it_ends_the_run() -> None:
    leaf, _ = _leaf(FaultyArm(EmergencyStopError("emergency stop (SIGUSR1): holding")))
    with pytest.raises(EmergencyStopError):
        leaf.tick_once()
