"""A local OpenAI-compatible chat server on 127.0.0.1 that replays scripted replies and records requests.

The planner under test talks to it through the real `openai` client over real HTTP; only the
model behind the API is scripted (no weights exist here).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from dexagent.hardware import Observation


@dataclass
class Scripted:
    """One scripted HTTP answer: a chat completion with `content`, or an error `status` with `body`."""

    content: str | None = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # raw body for non-200 answers; a JSON error object by default
    delay: float = 0.0  # seconds before answering (to exceed the client's timeout)
    raw: str | None = None  # a raw (malformed) body sent with `status`, instead of a completion

    @classmethod
    def of(cls, reply: Scripted | dict[str, Any] | str) -> Scripted:
        """A `Scripted`, its fields as a dict, or just the content text."""
        if isinstance(reply, str):
            return cls(content=reply)
        if isinstance(reply, dict):
            return cls(**reply)
        return reply


class ReplayServer:
    """Serves POST /v1/chat/completions from a queue (or a responder function) and GET /v1/models."""

    def __init__(self) -> None:
        self.replies: list[Scripted] = []
        # Answers each request from its content instead of the queue (e.g. for concurrent callers).
        self.responder: Callable[[dict[str, Any]], Scripted | dict[str, Any] | str] | None = None
        self.requests: list[dict[str, Any]] = []
        self.models: list[str] = ["test-vlm"]
        self.reject_response_format = False
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    data = [{"id": m, "object": "model", "created": 0} for m in server.models]
                    self._send(200, {"object": "list", "data": data})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                request["_path"] = self.path
                with server._lock:
                    server.requests.append(request)
                    if server.reject_response_format and "response_format" in request:
                        rejection = {"error": {"message": "response_format is not supported"}}
                        scripted = Scripted(status=400, body=rejection)
                    elif server.responder is not None:
                        scripted = Scripted.of(server.responder(request))
                    elif server.replies:
                        scripted = server.replies.pop(0)
                    else:
                        scripted = Scripted(status=418, body={"error": {"message": "replay: no reply left"}})
                if scripted.delay:
                    time.sleep(scripted.delay)
                if scripted.raw is not None:
                    self._send(scripted.status, scripted.raw.encode(), scripted.headers)
                    return
                if scripted.status != 200:
                    body = scripted.body
                    if body is None:
                        body = {"error": {"message": f"HTTP {scripted.status}"}}
                    if isinstance(body, str):
                        body = body.encode()
                    self._send(scripted.status, body, scripted.headers)
                    return
                completion = {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": request.get("model", ""),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": scripted.content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                self._send(200, completion, scripted.headers)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False  # slow handlers must not hold up teardown
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def queue(self, *replies: Scripted | dict[str, Any] | str) -> None:
        """Add replies: a `Scripted`, its fields as a dict, or just the content text."""
        self.replies.extend(Scripted.of(reply) for reply in replies)

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["_path"].endswith("/chat/completions")]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def vlm_server() -> Iterator[ReplayServer]:
    server = ReplayServer()
    yield server
    server.close()


def make_observation(width: int = 224, height: int = 224, seed: int = 0) -> Observation:
    """A camera-like observation with random images (the scripted model never looks at them)."""
    rng = np.random.default_rng(seed)
    head = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    wrist = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    return Observation(head_rgb=head, wrist_rgb=wrist, state=np.zeros(13, np.float32), t=0.0)


@pytest.fixture
def observation() -> Observation:
    return make_observation()


@pytest.fixture
def observation_factory() -> Callable[..., Observation]:
    return make_observation
