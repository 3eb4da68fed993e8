"""The `openai` planner: the paper's VLM planner over any OpenAI-compatible server.

Each stage sends its images as data URLs with a stage prompt, reads the reply tolerantly,
and when the reply is unusable asks again with the validation error fed back (a bounded
number of times) before failing with a `PlannerError`. Synchronous and thread-safe:
callers run it off the tick thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from dexagent.agent.planner import prompts
from dexagent.agent.planner.config import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    OpenAIPlannerConfig,
    resolve_config,
)
from dexagent.agent.planner.errors import PlannerError, ReplyError
from dexagent.agent.planner.images import SentImage, encode_image
from dexagent.agent.planner.replies import (
    COMPLETE_KEYS,
    VERIFY_KEYS,
    box_from_reply,
    plan_from_reply,
    verdict_from_reply,
)
from dexagent.hardware import Box, Observation
from dexagent.skills.planning import AttemptRecord, Instruction, Plan, Verdict

if TYPE_CHECKING:
    from dexagent.agent.planner.transport import Message

log = logging.getLogger(__name__)
T = TypeVar("T")


class OpenAIPlanner:
    """A `Planner` backed by a VLM behind an OpenAI-compatible chat API (vLLM, SGLang, Ollama, DashScope).

    Arguments not given come from OPENAI_BASE_URL, OPENAI_API_KEY, DEXAGENT_PLANNER_MODEL and
    DEXAGENT_PLANNER_BOX_FORMAT; `box_format="auto"` infers the convention from the model name.
    Other keyword options are `OpenAIPlannerConfig` fields (response_format, max_repairs, ...).
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        *,
        box_format: str = "auto",
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        config: OpenAIPlannerConfig | None = None,
        **options: Any,
    ) -> None:
        self.config = config or resolve_config(
            base_url,
            model,
            api_key,
            box_format=box_format,
            timeout=timeout,
            max_retries=max_retries,
            **options,
        )
        # The transport brings the openai library (a fifth of a second to import): loaded when a
        # planner is made, so commands that never talk to a server start without it.
        from dexagent.agent.planner.transport import ChatTransport

        self._transport = ChatTransport(self.config, sleep=sleep)

    def __repr__(self) -> str:
        return f"OpenAIPlanner(model={self.config.model!r}, base_url={self.config.base_url!r})"

    def describe(self) -> str:
        """One line naming the server, model and box convention (for logs and the CLI)."""
        mode = "JSON schema" if self._transport.schema_supported else "JSON by instruction"
        config = self.config
        return f"openai planner: {config.model} at {config.base_url} ({config.box_format} boxes, {mode})"

    def check_connection(self) -> None:
        """Raise `PlannerUnreachableError` now if the server is down (instead of at the first stage)."""
        self._transport.check()

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> OpenAIPlanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _image(self, rgb: Any) -> SentImage:
        return encode_image(
            rgb,
            box_format=self.config.box_format,
            max_side=self.config.image_max_side,
            encoding=self.config.image_encoding,
            max_pixels=self.config.max_pixels,
        )

    def _ask(
        self,
        stage: str,
        images: Sequence[SentImage],
        text: str,
        parse: Callable[[str], T],
        *,
        json_reply: bool = True,
    ) -> T:
        """One stage: ask, parse, and re-ask with the parse error until the reply is usable."""
        content: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": image.url}} for image in images
        ]
        content.append({"type": "text", "text": text})
        messages: list[Message] = [
            {"role": "system", "content": prompts.SYSTEM_PROMPT},
            {"role": "user", "content": content},
        ]
        response_format = prompts.response_format(stage) if json_reply else None
        tries = self.config.max_repairs + 1
        last_error = last_reply = ""
        for attempt in range(1, tries + 1):
            reply = self._transport.complete(messages, stage=stage, response_format=response_format)
            try:
                return parse(reply)
            except ReplyError as error:
                log.info("planner %s: unusable reply %d/%d: %s", stage, attempt, tries, error)
                # Some servers refuse an empty assistant turn; say what it was instead.
                messages.append({"role": "assistant", "content": reply or "(empty reply)"})
                messages.append({"role": "user", "content": prompts.repair_prompt(str(error), json_reply)})
                last_error, last_reply = str(error), reply
        shown = last_reply.strip()[:200] or "(empty)"
        raise PlannerError(
            f"planner {stage}: the model ({self.config.model}) gave no usable reply in {tries} tries; "
            f"last problem: {last_error} Last reply: {shown!r}"
        )

    def propose(self, prompt: str, observation: Observation, history: Sequence[AttemptRecord]) -> Plan:
        """The instructions still needed for `prompt`, from the current head image and the attempts so far."""
        return self._ask(
            "propose",
            [self._image(observation.head_rgb)],
            prompts.propose_prompt(prompt, history),
            plan_from_reply,
        )

    def ground(self, instruction: Instruction, observation: Observation) -> Box:
        """The target's box in `observation.head_rgb` pixels (the model's convention converted back)."""
        image = self._image(observation.head_rgb)
        fmt = self.config.box_format

        def parse(reply: str) -> Box:
            box, reasoning = box_from_reply(reply, fmt, image.sent_size, image.image_size)
            log.debug("planner ground %r -> %s (%s)", instruction.target, box, reasoning)
            return box

        text = prompts.ground_prompt(instruction, fmt, image.sent_size)
        return self._ask("ground", [image], text, parse, json_reply=fmt != "qwen-vl-chat")

    def verify_grasp(self, instruction: Instruction, observation: Observation) -> Verdict:
        """Whether the target is held and lifted, judged from the head and wrist images."""
        images = [self._image(observation.head_rgb), self._image(observation.wrist_rgb)]
        return self._ask(
            "verify", images, prompts.verify_prompt(instruction), lambda r: verdict_from_reply(r, VERIFY_KEYS)
        )

    def is_complete(self, prompt: str, first_observation: Observation, observation: Observation) -> Verdict:
        """Whether `prompt` is done, comparing the first head image with the current one."""
        images = [self._image(first_observation.head_rgb), self._image(observation.head_rgb)]
        return self._ask(
            "complete",
            images,
            prompts.complete_prompt(prompt),
            lambda r: verdict_from_reply(r, COMPLETE_KEYS),
        )
