"""The planner registry: each backend declares its options; `build_planner` finds it by name.

Adding a planner backend touches its own module plus one `register_planner` call here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dexagent.agent.planner.config import OpenAIPlannerConfig
from dexagent.agent.planner.errors import PlannerConfigError
from dexagent.agent.planner.openai_backend import OpenAIPlanner
from dexagent.agent.planner.scene_backend import GroundTruthScene, ScenePlanner
from dexagent.skills.planning import Planner


@dataclass(frozen=True)
class PlannerBackend:
    """One planner backend: its name, what it is, the options it accepts and how to build it.

    `build(options, scene, check)` gets the validated options (a dict), the simulator's ground truth
    (None on a real robot) and whether to contact a server now.
    """

    name: str
    description: str
    options: dict[str, str]  # option name -> one-line description (docs and `--help`)
    build: Callable[[dict[str, Any], GroundTruthScene | None, bool], Planner]
    needs_scene: bool = False


_BACKENDS: dict[str, PlannerBackend] = {}


def register_planner(backend: PlannerBackend) -> None:
    """Make `backend` available by its name (a second registration of a name is a bug)."""
    if backend.name in _BACKENDS:
        raise ValueError(f"planner backend {backend.name!r} is already registered")
    _BACKENDS[backend.name] = backend


def planner_backends() -> dict[str, PlannerBackend]:
    """Every registered backend by name, in registration order."""
    return dict(_BACKENDS)


class ScenePlannerOptions(BaseModel):
    """Options of the offline `scene` planner (reads the simulator's ground truth)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    box_noise: float = Field(0.0, ge=0, description="box jitter as a fraction of the box size")
    seed: int = Field(0, description="seed of the box jitter")
    max_failures: int = Field(3, ge=1, description="attempts per target before the planner gives up on it")


def _options_help(model: type[BaseModel]) -> dict[str, str]:
    return {name: field.description or "" for name, field in model.model_fields.items()}


def _validated(name: str, model: type[BaseModel], options: dict[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(options).model_dump(exclude_unset=True)
    except ValidationError as error:
        parts = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"]) or "options"
            if item["type"] == "extra_forbidden":
                parts.append(
                    f"unknown {name} planner option {where!r} (known: {', '.join(model.model_fields)})"
                )
            else:
                parts.append(f"{name} planner option {where!r}: {item['msg']} (got {item.get('input')!r})")
        raise PlannerConfigError("; ".join(parts)) from None


def _build_scene(options: dict[str, Any], scene: GroundTruthScene | None, check: bool) -> Planner:
    if scene is None:
        raise PlannerConfigError(
            "the scene planner reads the simulator's ground truth: it needs the sim robot "
            "(use --planner openai on a real robot)"
        )
    return ScenePlanner(scene, **_validated("scene", ScenePlannerOptions, options))


def _build_openai(options: dict[str, Any], scene: GroundTruthScene | None, check: bool) -> Planner:
    # OpenAIPlannerConfig validates the options (after the environment fills base_url and model).
    planner = OpenAIPlanner(**options)
    if check:
        try:
            planner.check_connection()
        except Exception:
            planner.close()
            raise
    return planner


register_planner(
    PlannerBackend(
        "scene",
        "the simulator's ground truth with a small prompt grammar (offline; sim only)",
        _options_help(ScenePlannerOptions),
        _build_scene,
        needs_scene=True,
    )
)
register_planner(
    PlannerBackend(
        "openai",
        "a VLM behind any OpenAI-compatible server (vLLM, SGLang, Ollama, DashScope)",
        _options_help(OpenAIPlannerConfig),
        _build_openai,
    )
)
PLANNER_BACKENDS = tuple(_BACKENDS)


def build_planner(
    name: str, robot: GroundTruthScene | None = None, *, check: bool = True, **options: Any
) -> Planner:
    """The planner called `name`, built from its declared options.

    "scene" needs the simulated `robot` (its ground truth); options: box_noise, seed, max_failures.
    "openai" takes base_url, model, api_key, box_format and any `OpenAIPlannerConfig` field; with
    `check` it contacts the server now, so an unreachable server fails at start
    (`PlannerUnreachableError`) rather than in the middle of a run.
    """
    backend = _BACKENDS.get(name)
    if backend is None:
        raise PlannerConfigError(f"unknown planner {name!r}; choose one of {', '.join(_BACKENDS)}")
    return backend.build(options, robot, check)
