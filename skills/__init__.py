"""Skills: py_trees leaves (grasp, push_then_grasp, reset, completion_check, conditions), their registry.

Importing this package registers every bundled skill in `REGISTRY` (`skills/bundled.py`)
without importing their leaves: listing the skills loads neither py_trees nor numpy.
"""

from typing import TYPE_CHECKING

from dexagent.hardware.lazy_exports import lazy_exports
from dexagent.skills import bundled as _bundled  # noqa: F401  (registers the bundled skills)
from dexagent.skills.errors import SkillError, SkillParamError, UnknownSkillError
from dexagent.skills.params import BlackboardRef, parse_ref, resolve_params, validate_static
from dexagent.skills.registry import REGISTRY, SkillInfo, SkillRegistry

# Loads on first use (PEP 562): the context holds numpy arrays and the controller's interfaces.
_EXPORTS = {"SkillContext": "dexagent.skills.context"}

if TYPE_CHECKING:
    from dexagent.skills.context import SkillContext

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

__getattr__ = lazy_exports(globals(), _EXPORTS)
