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
