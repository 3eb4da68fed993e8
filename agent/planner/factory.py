"""The planner registry: each backend declares its options; `build_planner` finds it by name.

Adding a planner backend touches its own module plus one `PLANNERS.register` call here. Entries
load their backend and options class on first use, so listing planners imports nothing.
A backend's factory is `build(options, scene, check) -> Planner`: the options as given (a dict),
the simulator's ground truth (None on a robot without one) and whether to contact a server now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dexagent.agent.planner.errors import PlannerConfigError
from dexagent.hardware.plugins import Registry

if TYPE_CHECKING:
    from dexagent.agent.planner.scene_backend import GroundTruthScene
    from dexagent.skills.planning import Planner

PLANNERS: Registry[Planner] = Registry("planner", PlannerConfigError)


def _build_scene(options: dict[str, Any], scene: GroundTruthScene | None, check: bool) -> Planner:
    from dexagent.agent.planner.scene_backend import ScenePlanner

    validated = PLANNERS.validate("scene", options)
    if scene is None:
        raise PlannerConfigError(
            "the scene planner reads the simulator's ground truth: it needs the sim robot "
            "(use --planner openai on a real robot)"
        )
    return ScenePlanner(scene, **validated.model_dump(exclude_unset=True))


def _build_openai(options: dict[str, Any], scene: GroundTruthScene | None, check: bool) -> Planner:
    from dexagent.agent.planner.openai_backend import OpenAIPlanner

    # OpenAIPlannerConfig validates the options (after the environment fills base_url and model).
    planner = OpenAIPlanner(**options)
    if check:
        try:
            planner.check_connection()
        except Exception:
            planner.close()
            raise
    return planner


PLANNERS.register(
    "scene",
    "the simulator's ground truth with a small prompt grammar (offline; sim only)",
    config="dexagent.agent.planner.config:ScenePlannerOptions",
    factory=_build_scene,
)
PLANNERS.register(
    "openai",
    "a VLM behind any OpenAI-compatible server (vLLM, SGLang, Ollama, DashScope)",
    config="dexagent.agent.planner.config:OpenAIPlannerConfig",
    factory=_build_openai,
)


def build_planner(
    name: str, robot: GroundTruthScene | None = None, *, check: bool = True, **options: Any
) -> Planner:
    """The planner called `name`, built from its declared options.

    "scene" needs the simulated `robot` (its ground truth); options: box_noise, seed, max_failures.
    "openai" takes base_url, model, api_key, box_format and any `OpenAIPlannerConfig` field; with
    `check` it contacts the server now, so an unreachable server fails at start
    (`PlannerUnreachableError`) rather than in the middle of a run.
    """
    return PLANNERS.factory(name)(options, robot, check)
