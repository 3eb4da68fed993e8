"""Planners: the `openai` VLM backend (any OpenAI-compatible server) and the offline `scene` backend.

Both implement `dexagent.skills.planning.Planner`; `build_planner(name, robot, **options)` picks one.
"""

# The names below load on first use (PEP 562): a command's --help reads the planner defaults and
# box formats without importing pydantic, PIL and the backends.
from typing import TYPE_CHECKING

from dexagent.hardware.lazy_exports import lazy_exports

_EXPORTS = {
    "BOX_FORMATS": "dexagent.agent.planner.choices",
    "BoxFormat": "dexagent.agent.planner.choices",
    "infer_box_format": "dexagent.agent.planner.boxes",
    "OpenAIPlannerConfig": "dexagent.agent.planner.config",
    "resolve_config": "dexagent.agent.planner.config",
    "PlannerConfigError": "dexagent.agent.planner.errors",
    "PlannerError": "dexagent.agent.planner.errors",
    "PlannerUnreachableError": "dexagent.agent.planner.errors",
    "PromptNotUnderstoodError": "dexagent.agent.planner.errors",
    "ReplyError": "dexagent.agent.planner.errors",
    "PLANNERS": "dexagent.agent.planner.factory",
    "build_planner": "dexagent.agent.planner.factory",
    "TargetQuery": "dexagent.agent.planner.grammar",
    "parse_prompt": "dexagent.agent.planner.grammar",
    "OpenAIPlanner": "dexagent.agent.planner.openai_backend",
    "GroundTruthScene": "dexagent.agent.planner.scene_backend",
    "ScenePlanner": "dexagent.agent.planner.scene_backend",
}

if TYPE_CHECKING:
    from dexagent.agent.planner.boxes import infer_box_format
    from dexagent.agent.planner.choices import BOX_FORMATS, BoxFormat
    from dexagent.agent.planner.config import OpenAIPlannerConfig, resolve_config
    from dexagent.agent.planner.errors import (
        PlannerConfigError,
        PlannerError,
        PlannerUnreachableError,
        PromptNotUnderstoodError,
        ReplyError,
    )
    from dexagent.agent.planner.factory import PLANNERS, build_planner
    from dexagent.agent.planner.grammar import TargetQuery, parse_prompt
    from dexagent.agent.planner.openai_backend import OpenAIPlanner
    from dexagent.agent.planner.scene_backend import GroundTruthScene, ScenePlanner

__all__ = [
    "BOX_FORMATS",
    "PLANNERS",
    "BoxFormat",
    "GroundTruthScene",
    "OpenAIPlanner",
    "OpenAIPlannerConfig",
    "PlannerConfigError",
    "PlannerError",
    "PlannerUnreachableError",
    "PromptNotUnderstoodError",
    "ReplyError",
    "ScenePlanner",
    "TargetQuery",
    "build_planner",
    "infer_box_format",
    "parse_prompt",
    "resolve_config",
]


__getattr__ = lazy_exports(globals(), _EXPORTS)
