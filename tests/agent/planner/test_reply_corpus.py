"""The reply corpus (replies/*.yaml): each scripted server behaviour is repaired into the right value
or fails with a clear message, through the real openai client over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dexagent.agent.planner import OpenAIPlanner, PlannerError
from dexagent.hardware import Observation
from dexagent.skills.planning import Instruction

CORPUS = Path(__file__).parent / "replies"
STAGES = {f"{stage}.yaml": stage for stage in ("ground", "propose", "verify", "complete")}


def _cases() -> list[Any]:
    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text()):
            case.setdefault("stage", STAGES.get(path.name, "verify"))
            cases.append(pytest.param(case, id=f"{path.stem}/{case['id']}"))
    return cases


def test_corpus_has_at_least_fifty_replies() -> None:
    assert len(_cases()) >= 50


def _last_user_text(request: dict[str, Any]) -> str:
    content = request["messages"][-1]["content"]
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


@pytest.mark.parametrize("case", _cases())
def test_reply_is_repaired_or_fails_clearly(
    case: dict[str, Any], vlm_server: Any, observation_factory: Callable[..., Observation]
) -> None:
    vlm_server.queue(*case["replies"])
    waits: list[float] = []
    options = {"max_retries": 3, "timeout": 5.0, **case.get("options", {})}
    box_format = case.get("box_format", "qwen2.5-vl")
    planner = OpenAIPlanner(vlm_server.url, "test-vlm", box_format=box_format, sleep=waits.append, **options)
    width, height = case.get("image", [224, 224])
    observation = observation_factory(width, height)
    instruction = Instruction(skill="grasp", target="the red cup", text="grasp the red cup")
    stages: dict[str, Callable[[], Any]] = {
        "ground": lambda: planner.ground(instruction, observation),
        "propose": lambda: planner.propose("clear the table", observation, []),
        "verify": lambda: planner.verify_grasp(instruction, observation),
        "complete": lambda: planner.is_complete("clear the table", observation, observation),
    }
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(PlannerError) as caught:
            stages[case["stage"]]()
        assert expect["error"] in str(caught.value)
        result = None
    else:
        result = stages[case["stage"]]()
    requests = vlm_server.chat_requests()
    if "requests" in expect:
        assert len(requests) == expect["requests"]
    if "waits" in expect:
        assert waits == pytest.approx(expect["waits"], abs=0.01)
    if "box" in expect:
        assert result.as_tuple() == pytest.approx(tuple(expect["box"]), abs=1e-6)
    if "ok" in expect:
        assert result.ok is expect["ok"]
    if "reasoning" in expect:
        assert result.reasoning == expect["reasoning"]
    if "instructions" in expect:
        got = [(i.skill, i.target, i.text) for i in result.instructions]
        assert len(got) == len(expect["instructions"])
        for (skill, target, text), wanted in zip(got, expect["instructions"], strict=True):
            assert (skill, target) == (wanted[0], wanted[1])
            if len(wanted) > 2:
                assert text == wanted[2]
    if "repair_mentions" in expect:
        # The repair request carries the model's bad reply and our validation error verbatim.
        repair = requests[1]
        assert repair["messages"][-2]["role"] == "assistant"
        assert expect["repair_mentions"] in _last_user_text(repair)
    if "schema_sent" in expect:
        assert ("response_format" in requests[0]) is expect["schema_sent"]
    if "second_request_has_schema" in expect:
        assert "response_format" in requests[0]
        assert ("response_format" in requests[1]) is expect["second_request_has_schema"]
    if "sent_size" in expect:
        from dexagent.agent.planner.images import send_size

        config = planner.config
        sent = send_size(width, height, config.box_format, config.image_max_side, config.max_pixels)
        assert sent == tuple(expect["sent_size"])
    planner.close()
