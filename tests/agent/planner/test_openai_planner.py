"""The `openai` planner against a local OpenAI-compatible server: what it sends, how it recovers."""

from __future__ import annotations

import base64
import io
import json
import re
import socket
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image

from dexagent.agent.planner import (
    OpenAIPlanner,
    PlannerConfigError,
    PlannerError,
    PlannerUnreachableError,
    build_planner,
    resolve_config,
)
from dexagent.hardware import Box, Observation
from dexagent.skills.planning import AttemptRecord, Instruction, Planner

CUP = Instruction(skill="grasp", target="the red cup", text="grasp the red cup")


def _images(request: dict[str, Any]) -> list[str]:
    user = next(m for m in request["messages"] if m["role"] == "user")
    return [part["image_url"]["url"] for part in user["content"] if part["type"] == "image_url"]


def _text(request: dict[str, Any]) -> str:
    user = next(m for m in request["messages"] if m["role"] == "user")
    return " ".join(part["text"] for part in user["content"] if part["type"] == "text")


def _decode(url: str) -> Image.Image:
    header, payload = url.split(",", 1)
    assert re.fullmatch(r"data:image/(png|jpeg);base64", header)
    return Image.open(io.BytesIO(base64.b64decode(payload)))


def test_images_are_sent_as_data_urls_at_the_sent_size(
    vlm_server: Any, observation_factory: Callable[..., Observation]
) -> None:
    vlm_server.queue('{"box": [0, 0, 322, 238]}')
    planner = OpenAIPlanner(vlm_server.url, "Qwen2.5-VL-7B-Instruct", sleep=lambda s: None)
    box = planner.ground(CUP, observation_factory(640, 480))
    (url,) = _images(vlm_server.chat_requests()[0])
    image = _decode(url)
    assert url.startswith("data:image/png;base64,") and image.format == "PNG"
    assert image.size == (644, 476)  # Qwen2.5-VL grid: the pixels the model answers in
    assert "width 644, height 476" in _text(vlm_server.chat_requests()[0])
    assert box.as_tuple() == pytest.approx((0, 0, 320, 240))


def test_jpeg_encoding_and_two_images_for_verify_and_complete(
    vlm_server: Any, observation_factory: Callable[..., Observation]
) -> None:
    vlm_server.queue('{"success": true}', '{"complete": false}')
    planner = OpenAIPlanner(vlm_server.url, "qwen3-vl-8b", image_encoding="jpeg")
    first, now = observation_factory(seed=1), observation_factory(seed=2)
    assert planner.verify_grasp(CUP, now).ok
    assert not planner.is_complete("clear the table", first, now).ok
    verify, complete = vlm_server.chat_requests()
    head, wrist = (np.asarray(_decode(u)) for u in _images(verify))
    assert _decode(_images(verify)[0]).format == "JPEG"
    # JPEG is lossy: each image is close to its source, and the two are the head and wrist in order.
    assert np.abs(head.astype(int) - now.head_rgb).mean() < np.abs(head.astype(int) - now.wrist_rgb).mean()
    assert np.abs(wrist.astype(int) - now.wrist_rgb).mean() < np.abs(wrist.astype(int) - now.head_rgb).mean()
    before = np.asarray(_decode(_images(complete)[0])).astype(int)
    assert np.abs(before - first.head_rgb).mean() < np.abs(before - now.head_rgb).mean()
    assert "'clear the table'" in _text(complete)


def test_repair_request_feeds_back_the_validation_error(vlm_server: Any, observation: Observation) -> None:
    vlm_server.queue('{"box": [120, 110, 20, 10]}', '{"box": [20, 10, 120, 110]}')
    planner = OpenAIPlanner(vlm_server.url, "test-vlm", box_format="qwen2.5-vl")
    assert planner.ground(CUP, observation) == Box(20, 10, 120, 110)
    first, repair = vlm_server.chat_requests()
    assert repair["messages"][: len(first["messages"])] == first["messages"]  # same conversation, continued
    assert repair["messages"][-2] == {"role": "assistant", "content": '{"box": [120, 110, 20, 10]}'}
    feedback = repair["messages"][-1]["content"]
    expected = "Your previous reply could not be used: the box [120, 110, 20, 10] is inverted or empty"
    assert feedback.startswith(expected)


def test_json_schema_is_requested_and_dropped_once_the_server_rejects_it(
    vlm_server: Any, observation: Observation
) -> None:
    planner = OpenAIPlanner(vlm_server.url, "test-vlm", box_format="qwen3-vl")
    vlm_server.queue('{"success": true, "reasoning": "held"}')
    planner.verify_grasp(CUP, observation)
    schema = vlm_server.chat_requests()[0]["response_format"]
    assert schema["type"] == "json_schema"
    assert schema["json_schema"]["schema"]["required"] == ["reasoning", "success"]

    vlm_server.reject_response_format = True
    vlm_server.queue('{"box": [100, 100, 200, 200]}', '{"complete": true}')
    planner.ground(CUP, observation)
    assert planner.is_complete("clear the table", observation, observation).ok
    later = vlm_server.chat_requests()[1:]
    assert "response_format" in later[0]  # rejected (400) ...
    assert all("response_format" not in r for r in later[1:])  # ... and never sent again
    assert "JSON by instruction" in planner.describe()


def test_propose_prompt_carries_the_history_and_the_skills(vlm_server: Any, observation: Observation) -> None:
    vlm_server.queue('{"instructions": [], "reasoning": "done"}')
    planner = OpenAIPlanner(vlm_server.url, "test-vlm", box_format="glm-v")
    history = [AttemptRecord(instruction=CUP, success=False, reason="grasp: timeout after 12.0 s")]
    plan = planner.propose("clear the table", observation, history)
    assert plan.instructions == () and plan.reasoning == "done"
    text = _text(vlm_server.chat_requests()[0])
    assert '1. grasp "the red cup": failed (grasp: timeout after 12.0 s)' in text
    assert '"push_then_grasp"' in text and "'clear the table'" in text


def test_calls_from_many_threads_get_their_own_answers(vlm_server: Any, observation: Observation) -> None:
    # The server answers each request with a box derived from the target named in it.
    def responder(request: dict[str, Any]) -> str:
        number = int(re.search(r"object (\d+)", _text(request)).group(1))  # type: ignore[union-attr]
        return json.dumps({"box": [number, number, number + 10, 50]})

    vlm_server.responder = responder
    planner = OpenAIPlanner(vlm_server.url, "test-vlm", box_format="qwen2.5-vl")
    results: dict[int, Box] = {}

    def work(number: int) -> None:
        target = f"object {number}"
        results[number] = planner.ground(Instruction(target=target, text=f"grasp {target}"), observation)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 17)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: b.as_tuple() for n, b in results.items()} == {n: (n, n, n + 10, 50) for n in range(1, 17)}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_fails_at_start() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    with pytest.raises(PlannerUnreachableError, match=f"cannot reach the planner server at {url}"):
        build_planner("openai", base_url=url, model="qwen2.5-vl-7b")


def test_unreachable_mid_run_after_retries(observation: Observation) -> None:
    waits: list[float] = []
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    planner = OpenAIPlanner(url, "qwen3-vl", max_retries=2, sleep=waits.append)
    with pytest.raises(PlannerUnreachableError, match="planner verify: cannot reach"):
        planner.verify_grasp(CUP, observation)
    assert waits == [0.5, 1.0]


def test_start_check_reports_a_model_the_server_does_not_serve(vlm_server: Any) -> None:
    vlm_server.models = ["Qwen2.5-VL-72B-Instruct"]
    with pytest.raises(PlannerConfigError, match="does not serve model 'qwen2.5-vl-7b'; it serves: Qwen2.5"):
        build_planner("openai", base_url=vlm_server.url, model="qwen2.5-vl-7b")
    planner = build_planner("openai", base_url=vlm_server.url, model="Qwen2.5-VL-72B-Instruct")
    assert isinstance(planner, OpenAIPlanner) and isinstance(planner, Planner)
    assert planner.config.box_format == "qwen2.5-vl"


def test_config_comes_from_arguments_then_environment() -> None:
    env = {"OPENAI_BASE_URL": "http://env/v1", "DEXAGENT_PLANNER_MODEL": "glm-4.5v", "OPENAI_API_KEY": "k"}
    config = resolve_config(environ=env)
    assert (config.base_url, config.model, config.api_key, config.box_format) == (
        "http://env/v1",
        "glm-4.5v",
        "k",
        "glm-v",
    )
    config = resolve_config("http://arg/v1", "Qwen-VL-Chat", environ=env, timeout=5)
    assert (config.base_url, config.box_format, config.timeout) == ("http://arg/v1", "qwen-vl-chat", 5)
    env_format = {**env, "DEXAGENT_PLANNER_MODEL": "my-model", "DEXAGENT_PLANNER_BOX_FORMAT": "qwen3-vl"}
    assert resolve_config(environ=env_format).box_format == "qwen3-vl"
    assert resolve_config("http://a/v1", "m", box_format="qwen2.5-vl", environ={}).api_key == "EMPTY"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "needs a server URL: pass base_url (--planner-url) or set OPENAI_BASE_URL"),
        ({"base_url": "http://a/v1"}, "needs a model name"),
        ({"base_url": "http://a/v1", "model": "llava"}, "cannot tell the box convention of model 'llava'"),
        ({"base_url": "http://a/v1", "model": "m", "box_format": "yolo"}, "planner option 'box_format'"),
        ({"base_url": "http://a/v1", "model": "qwen3-vl", "timeout": 0}, "planner option 'timeout'"),
        ({"base_url": "http://a/v1", "model": "qwen3-vl", "tempr": 0}, "option 'tempr' (known: base_url"),
    ],
)
def test_bad_config_is_a_clear_error(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(PlannerConfigError) as caught:
        resolve_config(environ={}, **arguments)
    assert message in str(caught.value)


def test_bad_image_is_a_clear_error(vlm_server: Any) -> None:
    planner = OpenAIPlanner(vlm_server.url, "qwen3-vl")
    wrist = np.zeros((4, 4, 3), np.uint8)
    bad = Observation(np.zeros((4, 4), np.float32), wrist, np.zeros(13, np.float32), 0.0)
    with pytest.raises(PlannerError, match=r"uint8\[H, W, 3\] RGB arrays, got shape \(4, 4\) dtype float32"):
        planner.ground(CUP, bad)
    assert vlm_server.chat_requests() == []
