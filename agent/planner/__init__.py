"""Planners: the `openai` VLM backend (any OpenAI-compatible server) and the offline `scene` backend.

Both implement `dexagent.skills.planning.Planner`; `build_planner(name, robot, **options)` picks one.
"""

from dexagent.agent.planner.boxes import BOX_FORMATS, BoxFormat, infer_box_format
from dexagent.agent.planner.config import OpenAIPlannerConfig, resolve_config
from dexagent.agent.planner.errors import (
    PlannerConfigError,
    PlannerError,
    PlannerUnreachableError,
    PromptNotUnderstoodError,
    ReplyError,
)
from dexagent.agent.planner.factory import PLANNER_BACKENDS, build_planner
from dexagent.agent.planner.grammar import TargetQuery, parse_prompt
from dexagent.agent.planner.openai_backend import OpenAIPlanner
from dexagent.agent.planner.scene_backend import GroundTruthScene, ScenePlanner

__all__ = [
    "BOX_FORMATS",
    "PLANNER_BACKENDS",
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
