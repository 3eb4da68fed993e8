"""The bundled skills as the registry lists them: name, kind, description, parameters, blackboard keys.

Listing the skills (`dexagent skills`) reads this module alone, which needs neither pydantic
nor py_trees nor numpy: the parameters are dataclasses of `param()` fields (pydantic checks
them from the first tree that loads), and each skill names its behaviour class as
"module:Class", imported when a tree first builds one of its leaves. The class points back
at its `SkillInfo` here (`info = RESET`).

Every controller-driven skill registered in `controller/skill_spec.py` becomes a skill here,
with the description and default budget its spec gives; its leaf is `skills/grasp.py`.
Importing `dexagent.skills` imports this module; the order below is the manifest's order.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dexagent.controller.skill_spec import CONTROLLED_SKILLS, ControlledSkill
from dexagent.skills import blackboard_keys as keys
from dexagent.skills.param_fields import param
from dexagent.skills.registry import REGISTRY

if TYPE_CHECKING:
    import py_trees

    from dexagent.skills.context import SkillContext


def _target_text(value: Any) -> Any:
    # A for-each over the plan puts whole Instructions on the blackboard; "{instruction}" works too.
    from dexagent.skills.planning import Instruction  # pydantic: loads with the first check

    return value.target if isinstance(value, Instruction) else value


# The parameters of every controller-driven skill; `budget_s` defaults to its spec's budget.
@dataclass(frozen=True, kw_only=True)
class GraspParams:
    target: str = param(
        description="the object to grasp, as a referring expression ('the red cup')",
        min_length=1,
        before=_target_text,
    )
    budget_s: float = param(15.0, gt=0, description="seconds for the whole attempt, grounding included")
    verify_interval_s: float = param(
        2.0, gt=0, description="least seconds between two verifier calls (verifier mode only)"
    )


@dataclass(frozen=True, kw_only=True)
class ResetParams:
    budget_s: float = param(15.0, gt=0, description="seconds for the whole reset")
    speed_rad_s: float = param(1.0, gt=0, le=3.0, description="peak joint speed of the arm (rad/s)")
    drop: bool = param(True, description="drop a held object in the bin before going home")


@dataclass(frozen=True, kw_only=True)
class CompletionCheckParams:
    prompt: str = param(min_length=1, description="the user's prompt, e.g. 'clear the table'")
    budget_s: float = param(60.0, gt=0, description="seconds to wait for the planner's verdict")


@dataclass(frozen=True, kw_only=True)
class PlanParams:
    prompt: str = param(min_length=1, description="the user's prompt, e.g. 'grasp all bottles'")
    budget_s: float = param(60.0, gt=0, description="seconds to wait for the plan")
    allow_empty: bool = param(True, description="succeed with an empty plan (nothing left to do)")


@dataclass(frozen=True, kw_only=True)
class HoldingParams:
    target: str | None = param(
        None, description="the object that must be held; None: anything", min_length=1, before=_target_text
    )


@dataclass(frozen=True, kw_only=True)
class TargetVisibleParams:
    target: str = param(
        description="the object to look for, as a referring expression", min_length=1, before=_target_text
    )
    budget_s: float = param(30.0, gt=0, description="seconds to wait for the planner to ground it")


ATTEMPT_READS = (keys.HISTORY,)
ATTEMPT_WRITES = (keys.TARGET, keys.HELD_OBJECT, keys.HELD_INDEX, keys.HISTORY)


def camel_case(name: str) -> str:
    """`push_then_grasp` -> `PushThenGrasp`: the names of a skill's parameter model and leaf class."""
    return "".join(part.capitalize() for part in name.split("_"))


def _attempt(
    skill: str, node_name: str, raw_params: Mapping[str, Any], context: SkillContext
) -> py_trees.behaviour.Behaviour:
    """A leaf of the controller-driven skill `skill` (its module loads with the first one built)."""
    from dexagent.skills.grasp import attempt_class

    return attempt_class(REGISTRY.get(skill))(node_name, raw_params, context)


def _register_controlled(spec: ControlledSkill) -> None:
    """Make the controller-driven skill `spec` a skill: its parameters, its leaf."""
    budget = param(spec.budget_s, gt=0, description="seconds for the whole attempt, grounding included")
    params = dataclasses.make_dataclass(
        f"{camel_case(spec.name)}Params",
        [("budget_s", float, budget)],
        bases=(GraspParams,),
        frozen=True,
        kw_only=True,
    )
    factory = functools.partial(_attempt, spec.name)
    REGISTRY.declare(spec.name, spec.description, params, factory, reads=ATTEMPT_READS, writes=ATTEMPT_WRITES)


def _unregister_controlled(spec: ControlledSkill) -> None:
    REGISTRY.unregister(spec.name)


CONTROLLED_SKILLS.subscribe(_register_controlled, _unregister_controlled)

RESET = REGISTRY.declare(
    "reset",
    "Drop any held object in the bin, then return home with the hand open.",
    ResetParams,
    "dexagent.skills.reset:Reset",
    reads=(keys.HELD_OBJECT, keys.HELD_INDEX, keys.GRASPED),
    writes=(keys.GRASPED, keys.HELD_OBJECT, keys.HELD_INDEX),
)
COMPLETION_CHECK = REGISTRY.declare(
    "completion_check",
    "Succeed when the planner judges the prompt complete (comparing the first and current head images).",
    CompletionCheckParams,
    "dexagent.skills.completion_check:CompletionCheck",
    kind="condition",
    reads=(keys.FIRST_OBSERVATION,),
    writes=(keys.COMPLETE,),
)
PLAN = REGISTRY.declare(
    "plan",
    "Ask the planner for the instructions still to do and write them to the blackboard.",
    PlanParams,
    "dexagent.skills.plan:PlanStep",
    reads=(keys.HISTORY, keys.PROMPT, keys.FIRST_OBSERVATION, keys.FIRST_PLAN),
    writes=(keys.PLAN, keys.INSTRUCTIONS, keys.INSTRUCTION, keys.TARGET, keys.FIRST_PLAN),
)
HOLDING = REGISTRY.declare(
    "holding",
    "Succeed while the hand holds the target (the last successful grasp, still in the closed hand).",
    HoldingParams,
    "dexagent.skills.conditions:Holding",
    kind="condition",
    reads=(keys.HELD_OBJECT, keys.HELD_INDEX),
)
TARGET_VISIBLE = REGISTRY.declare(
    "target_visible",
    "Succeed when the planner can find the target in the head image (ground truth checks it in sim).",
    TargetVisibleParams,
    "dexagent.skills.conditions:TargetVisible",
    kind="condition",
)
