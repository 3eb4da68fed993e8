"""The planner backends' options: `openai` (from arguments, then the environment, then defaults), `scene`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dexagent.agent.planner import choices
from dexagent.agent.planner.boxes import BoxFormat, box_formats_help, infer_box_format
from dexagent.agent.planner.errors import PlannerConfigError
from dexagent.agent.planner.images import MAX_PIXELS, ImageEncoding
from dexagent.hardware.plugins import invalid_options

ENV_BASE_URL = "OPENAI_BASE_URL"
ENV_API_KEY = "OPENAI_API_KEY"
ENV_MODEL = "DEXAGENT_PLANNER_MODEL"
ENV_BOX_FORMAT = "DEXAGENT_PLANNER_BOX_FORMAT"
# Local servers (vLLM, SGLang, Ollama) ignore the key, but the openai client insists on one.
NO_KEY = "EMPTY"
# Re-exported: the backends and tests read them here.
DEFAULT_TIMEOUT, DEFAULT_RETRIES = choices.DEFAULT_TIMEOUT, choices.DEFAULT_RETRIES


class OpenAIPlannerConfig(BaseModel):
    """Everything the `openai` backend needs; see `resolve_config` for where values come from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(
        min_length=1, description="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1"
    )
    model: str = Field(min_length=1, description="the served model name")
    api_key: str = Field(NO_KEY, description="API key (local servers ignore it)")
    box_format: BoxFormat = Field(description="how the model writes boxes (pixels or 0-1000)")
    # "json_schema": ask for each stage's schema via response_format (dropped once a server rejects it).
    response_format: Literal["json_schema", "none"] = Field(
        "json_schema", description="ask for each stage's JSON schema, or rely on the instructions"
    )
    timeout: float = Field(DEFAULT_TIMEOUT, gt=0, description="seconds to wait for one reply")
    max_retries: int = Field(
        DEFAULT_RETRIES, ge=0, description="retries of one request after 429/5xx/timeouts"
    )
    max_repairs: int = Field(2, ge=0, description="re-asks after an unusable reply, with the error fed back")
    max_retry_wait: float = Field(30.0, ge=0, description="cap on one wait between retries (Retry-After too)")
    backoff: float = Field(0.5, ge=0, description="first wait between retries; doubles each retry")
    temperature: float = Field(0.0, ge=0, description="sampling temperature")
    max_tokens: int = Field(1024, gt=0, description="longest reply")
    image_max_side: int = Field(
        1024, ge=28, description="images larger than this are downscaled before sending"
    )
    image_encoding: ImageEncoding = Field("png", description="how images are sent (png or jpeg)")
    # Qwen2.5-VL only: keep at or below the server's max_pixels, so the server does not resize again.
    max_pixels: int = Field(MAX_PIXELS, ge=56 * 56, description="Qwen2.5-VL: the server's max_pixels")


class ScenePlannerOptions(BaseModel):
    """Options of the offline `scene` planner (reads the simulator's ground truth)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    box_noise: float = Field(0.0, ge=0, description="box jitter as a fraction of the box size")
    seed: int = Field(0, description="seed of the box jitter")
    max_failures: int = Field(3, ge=1, description="attempts per target before the planner gives up on it")


def resolve_config(
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    *,
    box_format: str | None = "auto",
    environ: Mapping[str, str] | None = None,
    **options: Any,
) -> OpenAIPlannerConfig:
    """Build the config: explicit arguments win, then OPENAI_BASE_URL / OPENAI_API_KEY /
    DEXAGENT_PLANNER_MODEL / DEXAGENT_PLANNER_BOX_FORMAT, then defaults. `box_format="auto"`
    infers the convention from the model name."""
    env = os.environ if environ is None else environ
    base_url = base_url or env.get(ENV_BASE_URL)
    model = model or env.get(ENV_MODEL)
    if not base_url:
        raise PlannerConfigError(
            f"the openai planner needs a server URL: pass base_url (--planner-url) or set {ENV_BASE_URL}, "
            "e.g. http://localhost:8000/v1 for vLLM or http://localhost:11434/v1 for Ollama"
        )
    if not model:
        raise PlannerConfigError(
            f"the openai planner needs a model name: pass model (--planner-model) or set {ENV_MODEL}"
        )
    if box_format in (None, "", "auto"):
        box_format = env.get(ENV_BOX_FORMAT) or infer_box_format(model)
        if box_format is None:
            raise PlannerConfigError(
                f"cannot tell the box convention of model {model!r} from its name; "
                f"pass box_format (one of {box_formats_help()}) or set {ENV_BOX_FORMAT}"
            )
    values = {
        "base_url": base_url,
        "model": model,
        "api_key": api_key or env.get(ENV_API_KEY) or NO_KEY,
        "box_format": box_format,
        **options,
    }
    try:
        return OpenAIPlannerConfig.model_validate(values)
    except ValidationError as error:
        raise PlannerConfigError(
            invalid_options(error, "openai planner", OpenAIPlannerConfig.model_fields)
        ) from None
