"""Skills: py_trees leaves (grasp, push_then_grasp, reset, completion_check, conditions), their registry.

Importing this package registers every bundled skill in `REGISTRY`.
"""

from dexagent.skills.context import SkillContext
from dexagent.skills.errors import SkillError, SkillParamError, UnknownSkillError
from dexagent.skills.params import BlackboardRef, parse_ref, resolve_params, validate_static
from dexagent.skills.registry import REGISTRY, SkillInfo, SkillRegistry

__all__ = [
    "REGISTRY",
    "BlackboardRef",
    "SkillContext",
    "SkillError",
    "SkillInfo",
    "SkillParamError",
    "SkillRegistry",
    "UnknownSkillError",
    "parse_ref",
    "resolve_params",
    "validate_static",
]

# Importing the skill modules registers them in REGISTRY; this order is the manifest's order.
# isort: off
from dexagent.skills import grasp as _grasp  # noqa: E402,F401
from dexagent.skills import reset as _reset  # noqa: E402,F401
from dexagent.skills import completion_check as _completion_check  # noqa: E402,F401
from dexagent.skills import plan as _plan  # noqa: E402,F401
from dexagent.skills import conditions as _conditions  # noqa: E402,F401
# isort: on
