"""Tolerant JSON reading and box conventions, without a server."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dexagent.agent.planner import BOX_FORMATS, ReplyError, infer_box_format
from dexagent.agent.planner.boxes import Size, from_image_box, to_image_box
from dexagent.agent.planner.images import encode_image, send_size, smart_resize
from dexagent.agent.planner.parsing import as_bool, json_values, normalise_key
from dexagent.agent.planner.replies import VERIFY_KEYS, box_from_reply, plan_from_reply, verdict_from_reply
from dexagent.hardware import Box


@pytest.mark.parametrize(
    ("reply", "values"),
    [
        ('{"a": 1}', [{"a": 1}]),
        ("text {'a': 'it\\'s'} more", [{"a": "it's"}]),
        ('```json\n{"a": [1, 2,],}\n```\nand {"ignored": true}', [{"a": [1, 2]}]),
        ("{a: True, b: None, c: -1.5e2}", [{"a": True, "b": None, "c": -150.0}]),
        ('{"s": "quote \\" and \\u00e9"}', [{"s": 'quote " and \u00e9'}]),
        ('first [1, 2] then {"k": "v"}', [[1, 2], {"k": "v"}]),
        ("{unclosed", []),
        ("no json here", []),
        ('{"a": 1 "b": 2}', [{"a": 1, "b": 2}]),  # a missing comma
    ],
)
def test_json_values_reads_what_models_write(reply: str, values: list[object]) -> None:
    assert json_values(reply) == values


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=10,
    )
)
@settings(max_examples=150, deadline=None)
def test_strict_json_objects_read_back_exactly(value: object) -> None:
    document = json.dumps({"value": value})
    assert json_values(f"Here you go:\n{document}\nThanks.") == [{"value": value}]


@pytest.mark.parametrize(
    ("key", "normal"),
    [("Bounding Box", "bounding_box"), ("bbox-2d", "bbox_2d"), ("isComplete", "is_complete"), (" OK ", "ok")],
)
def test_keys_are_normalised(key: str, normal: str) -> None:
    assert normalise_key(key) == normal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("TRUE", True),
        ("yes.", True),
        (1, True),
        ("no", False),
        ("false", False),
        (0, False),
        ("not grasped", False),
        ("Done", True),
    ],
)
def test_as_bool_reads_words(value: object, expected: bool) -> None:
    assert as_bool(value, "success") is expected


@pytest.mark.parametrize("value", ["true or false", "yes/no", "maybe", 0.5, None, [True]])
def test_as_bool_rejects_ambiguity(value: object) -> None:
    with pytest.raises(ReplyError, match='"success"'):
        as_bool(value, "success")


@pytest.mark.parametrize(
    ("model", "box_format"),
    [
        ("Qwen/Qwen2.5-VL-72B-Instruct", "qwen2.5-vl"),
        ("qwen2.5vl:7b".replace("vl", "-vl"), "qwen2.5-vl"),
        ("Qwen/Qwen3-VL-235B-A22B-Instruct", "qwen3-vl"),
        ("zai-org/GLM-4.5V", "glm-v"),
        ("THUDM/GLM-4.1V-9B-Thinking", "glm-v"),
        ("Qwen/Qwen-VL-Chat", "qwen-vl-chat"),
        ("llava-1.6", None),
        ("glm-4-9b-chat", None),
    ],
)
def test_box_format_is_inferred_from_the_model_name(model: str, box_format: str | None) -> None:
    assert infer_box_format(model) == box_format


@st.composite
def _box_in(draw: st.DrawFn) -> tuple[Box, tuple[int, int], str, int]:
    width, height = draw(st.integers(32, 1600)), draw(st.integers(32, 1200))
    x1 = draw(st.floats(0, width - 8))
    y1 = draw(st.floats(0, height - 8))
    x2 = draw(st.floats(x1 + 4, width))
    y2 = draw(st.floats(y1 + 4, height))
    box_format, max_side = draw(st.sampled_from(BOX_FORMATS)), draw(st.integers(64, 2048))
    return Box(x1, y1, x2, y2), (width, height), box_format, max_side


@given(_box_in())
@settings(max_examples=300, deadline=None)
def test_every_convention_round_trips_through_the_sent_image(case: tuple[Box, Size, str, int]) -> None:
    box, image_size, box_format, max_side = case
    sent = send_size(*image_size, box_format, max_side)  # type: ignore[arg-type]
    written = from_image_box(box, box_format, sent, image_size)  # type: ignore[arg-type]
    back = to_image_box(written, box_format, sent, image_size)  # type: ignore[arg-type]
    assert back.as_tuple() == pytest.approx(box.as_tuple(), abs=1e-6)


@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=4, max_size=4),
    st.sampled_from(BOX_FORMATS),
)
@settings(max_examples=300, deadline=None)
def test_any_model_box_is_either_inside_the_image_or_rejected(coords: list[float], box_format: str) -> None:
    try:
        box = to_image_box(coords, box_format, (224, 224), (640, 480))  # type: ignore[arg-type]
    except ReplyError as error:
        assert "use " in str(error)  # every rejection tells the model the convention
        return
    assert 0 <= box.x1 < box.x2 <= 640 and 0 <= box.y1 < box.y2 <= 480
    assert box.width >= 1 and box.height >= 1


@pytest.mark.parametrize(
    ("size", "expected"),
    [((224, 224), (224, 224)), ((640, 480), (644, 476)), ((10, 10), (56, 56)), ((4000, 3000), (1148, 840))],
)
def test_smart_resize_matches_qwen25_processor(size: tuple[int, int], expected: tuple[int, int]) -> None:
    width, height = smart_resize(*size)
    assert (width, height) == expected
    assert width % 28 == 0 and height % 28 == 0


def test_downscaled_image_keeps_aspect_for_normalised_formats() -> None:
    import numpy as np

    sent = encode_image(np.zeros((1000, 2000, 3), np.uint8), box_format="qwen3-vl", max_side=512)
    assert (sent.sent_size, sent.image_size) == ((512, 256), (2000, 1000))


REPLY_CHARACTERS = list("{}[]\",:'` \ntruefalsbox0123456789.-<>/thinkNa")


@given(st.text(alphabet=st.sampled_from(REPLY_CHARACTERS), max_size=300))
@settings(max_examples=400, deadline=None)
def test_any_reply_text_gives_a_value_or_a_reply_error(reply: str) -> None:
    # Whatever a model writes, each stage either understands it or says why (never another exception).
    for parse in (
        plan_from_reply,
        lambda r: verdict_from_reply(r, VERIFY_KEYS),
        lambda r: box_from_reply(r, "qwen2.5-vl", (224, 224), (224, 224)),
        lambda r: box_from_reply(r, "qwen-vl-chat", (224, 224), (224, 224)),
    ):
        try:
            parse(reply)
        except ReplyError as error:
            assert str(error)


def test_deeply_nested_junk_is_not_a_crash() -> None:
    assert json_values("[" * 5000) == []
    assert json_values("[" * 40 + "1" + "]" * 40 + ' {"ok": 1}')[-1] == {"ok": 1}
