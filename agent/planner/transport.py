"""One chat request to an OpenAI-compatible server, with the failures of real servers handled.

429 waits for Retry-After (capped) or backs off, 5xx and timeouts back off and retry,
other 4xx fail at once with the server's message, and a server that is not there at all
raises `PlannerUnreachableError`. A server that rejects `response_format` is asked again
without it, and never with it again. Safe to call from several threads at once.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import openai

from dexagent.agent.planner.config import OpenAIPlannerConfig
from dexagent.agent.planner.errors import PlannerConfigError, PlannerError, PlannerUnreachableError

log = logging.getLogger(__name__)
Message = dict[str, Any]


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The server's requested wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000.0)
        if "retry-after" in lowered:
            value = lowered["retry-after"].strip()
            try:
                return max(0.0, float(value))
            except ValueError:
                when = email.utils.parsedate_to_datetime(value)
                return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None
    return None


def _server_message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, Mapping) else inner
        if message:
            return str(message)[:300]
    return (error.response.text or error.message)[:300]


class ChatTransport:
    """Sends chat requests for the planner; owns the openai client and the retry policy."""

    def __init__(self, config: OpenAIPlannerConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self._sleep = sleep  # injectable so tests can check the waits without waiting
        # Our own retry loop (max_retries=0) so Retry-After, caps and error messages are ours.
        self._client = openai.OpenAI(
            base_url=config.base_url, api_key=config.api_key, timeout=config.timeout, max_retries=0
        )
        self._lock = threading.Lock()
        self._schema_supported = config.response_format == "json_schema"

    @property
    def schema_supported(self) -> bool:
        """Whether requests still carry a JSON-schema `response_format`."""
        with self._lock:
            return self._schema_supported

    def close(self) -> None:
        self._client.close()

    def check(self) -> None:
        """Fail fast when the server is down or does not serve the model (called once at start)."""
        where = self.config.base_url
        wait = min(self.config.timeout, 10.0)
        try:
            served = [m.id for m in self._client.models.list(timeout=wait)]
        except openai.APITimeoutError:
            message = f"the planner server at {where} did not answer within {wait:g} s"
            raise PlannerUnreachableError(message) from None
        except openai.APIConnectionError as error:
            raise PlannerUnreachableError(
                f"cannot reach the planner server at {where} ({error.__cause__ or error}); is it running? "
                "Set the URL with --planner-url or OPENAI_BASE_URL."
            ) from None
        except openai.AuthenticationError as error:
            raise PlannerConfigError(
                f"the planner server at {where} refused the API key: {_server_message(error)}"
            ) from None
        except openai.APIStatusError:
            return  # some servers do not list models; the first real request will tell
        if served and self.config.model not in served:
            raise PlannerConfigError(
                f"the planner server at {where} does not serve model {self.config.model!r}; it serves: "
                + ", ".join(sorted(served)[:20])
            )

    def _wait(self, retry: int, headers: Mapping[str, str] | None = None) -> float:
        requested = retry_after_seconds(headers)
        backoff = self.config.backoff * (2.0**retry)
        return min(self.config.max_retry_wait, requested if requested is not None else backoff)

    def _create(self, messages: list[Message], response_format: dict[str, Any] | None) -> str:
        extra: dict[str, Any] = {"response_format": response_format} if response_format else {}
        response = self._client.chat.completions.create(
            model=self.config.model,
            messages=messages,  # type: ignore[arg-type]
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens,
            timeout=self.config.timeout,
            **extra,
        )
        # Servers differ in what they leave out; a missing choice or message reads as an empty reply.
        choices = getattr(response, "choices", None) or []
        message = getattr(choices[0], "message", None) if choices else None
        content = getattr(message, "content", None)
        return content if isinstance(content, str) else ""

    def complete(self, messages: list[Message], *, stage: str, response_format: dict[str, Any] | None) -> str:
        """The reply text to `messages`; PlannerError once retries are spent."""
        retry = 0
        while True:
            use_format = response_format if self.schema_supported else None
            headers: Mapping[str, str] | None = None
            try:
                return self._create(messages, use_format)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as error:
                if use_format is None:
                    raise PlannerError(
                        f"planner {stage}: the server rejected the request: {_server_message(error)}"
                    ) from None
                with self._lock:
                    self._schema_supported = False
                log.warning(
                    "planner server rejected response_format (%s); asking for JSON in the prompt instead",
                    _server_message(error),
                )
                continue
            except openai.RateLimitError as error:
                reason = f"rate limited (429): {_server_message(error)}"
                headers = error.response.headers
            except openai.APITimeoutError:
                reason = f"no reply within {self.config.timeout:g} s"
            except openai.APIConnectionError as error:
                reason = f"connection failed ({error.__cause__ or error})"
                if retry >= self.config.max_retries:
                    raise PlannerUnreachableError(
                        f"planner {stage}: cannot reach {self.config.base_url}: {reason}"
                    ) from None
            except openai.InternalServerError as error:
                reason = f"server error {error.status_code}: {_server_message(error)}"
            except openai.APIStatusError as error:
                hint = {
                    401: " (check OPENAI_API_KEY)",
                    403: " (check OPENAI_API_KEY)",
                    404: " (check the model name and the base URL, which usually ends in /v1)",
                }
                raise PlannerError(
                    f"planner {stage}: the server answered {error.status_code}: {_server_message(error)}"
                    f"{hint.get(error.status_code, '')}"
                ) from None
            except (openai.APIError, ValueError) as error:  # malformed response bodies (JSONDecodeError too)
                raise PlannerError(f"planner {stage}: unusable response from the server: {error}") from None
            if retry >= self.config.max_retries:
                raise PlannerError(f"planner {stage}: gave up after {retry + 1} tries: {reason}")
            wait = self._wait(retry, headers)
            log.info("planner %s: %s; retrying in %.2f s", stage, reason, wait)
            self._sleep(wait)
            retry += 1
