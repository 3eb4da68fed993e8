"""`build_planner`: a planner backend by name, as configs and the CLI name them."""

from __future__ import annotations

import inspect
from typing import Any

from dexagent.agent.planner.errors import PlannerConfigError
from dexagent.agent.planner.openai_backend import OpenAIPlanner
from dexagent.agent.planner.scene_backend import GroundTruthScene, ScenePlanner
from dexagent.skills.planning import Planner

PLANNER_BACKENDS = ("scene", "openai")


def _scene_options() -> set[str]:
    return {
        name for name in inspect.signature(ScenePlanner.__init__).parameters if name not in ("self", "robot")
    }


def build_planner(
    name: str, robot: GroundTruthScene | None = None, *, check: bool = True, **options: Any
) -> Planner:
    """The planner called `name` ("scene" or "openai").

    "scene" needs the simulated `robot` (its ground truth); options: box_noise, seed, max_failures.
    "openai" takes base_url, model, api_key, box_format and any `OpenAIPlannerConfig` field; with
    `check` it contacts the server now, so an unreachable server fails at start
    (`PlannerUnreachableError`) rather than in the middle of a run.
    """
    if name == "scene":
        if robot is None:
            raise PlannerConfigError(
                "the scene planner reads the simulator's ground truth: it needs the sim robot "
                "(use --planner openai on a real robot)"
            )
        unknown = sorted(set(options) - _scene_options())
        if unknown:
            raise PlannerConfigError(
                f"unknown scene planner option(s) {unknown}; known: {sorted(_scene_options())}"
            )
        return ScenePlanner(robot, **options)
    if name == "openai":
        planner = OpenAIPlanner(**options)
        if check:
            try:
                planner.check_connection()
            except Exception:
                planner.close()
                raise
        return planner
    raise PlannerConfigError(f"unknown planner {name!r}; choose one of {', '.join(PLANNER_BACKENDS)}")
