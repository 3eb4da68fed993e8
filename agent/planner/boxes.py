"""Box conventions of VLM families, and turning a model's box into a checked head-image `Box`.

- `qwen2.5-vl`: absolute pixels of the image *as sent* (we may have resized it).
- `qwen3-vl`, `glm-v`: coordinates normalised to 0-1000 of the image width/height.
- `qwen-vl-chat`: `<box>(x1,y1),(x2,y2)</box>` tags, normalised to 0-1000.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, get_args

from dexagent.agent.planner.choices import BoxFormat
from dexagent.agent.planner.errors import ReplyError
from dexagent.agent.planner.parsing import dicts_in, field, json_values
from dexagent.hardware import Box

Size = tuple[int, int]  # (width, height) in pixels

_NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"
_BOX_TAG = re.compile(
    r"(?:<box>|<\|box_start\|>)\s*\("
    + _NUMBER
    + ","
    + _NUMBER
    + r"\)\s*,?\s*\("
    + _NUMBER
    + ","
    + _NUMBER
    + r"\)\s*(?:</box>|<\|box_end\|>)"
)
_BOX_KEYS = (
    "box",
    "bbox",
    "bbox_2d",
    "bounding_box",
    "box_2d",
    "bbox2d",
    "target_box",
    "coordinates",
    "coords",
)
_CORNER_KEYS = (
    ("x1", "y1", "x2", "y2"),
    ("xmin", "ymin", "xmax", "ymax"),
    ("left", "top", "right", "bottom"),
)


def infer_box_format(model: str) -> BoxFormat | None:
    """The box convention of a model from its name, or None when the name does not say."""
    name = model.lower().replace("_", "-")
    if "qwen3-vl" in name or "qwen3vl" in name:
        return "qwen3-vl"
    if "qwen2.5-vl" in name or "qwen2-5-vl" in name or "qwen25-vl" in name:
        return "qwen2.5-vl"
    if "qwen-vl-chat" in name or re.search(r"qwen-vl(-|$)", name):
        return "qwen-vl-chat"
    if "glm" in name and re.search(r"\d(\.\d)?v", name):
        return "glm-v"
    return None


def describe_convention(box_format: BoxFormat, sent_size: Size) -> str:
    """How the model must write a box, in words for the prompt and for repair messages."""
    width, height = sent_size
    if box_format == "qwen2.5-vl":
        return (
            f"absolute pixel coordinates [x1, y1, x2, y2] in this image (width {width}, height {height}): "
            f"0 <= x1 < x2 <= {width}, 0 <= y1 < y2 <= {height}"
        )
    if box_format == "qwen-vl-chat":
        return (
            "<box>(x1,y1),(x2,y2)</box> with coordinates normalised to 0-1000 of the image width and height"
        )
    return "[x1, y1, x2, y2] with coordinates normalised to 0-1000 of the image width and height"


def _numbers(value: Any) -> list[float] | None:
    """Four coordinates from a list, a pair of points, a corner dict or a string of numbers."""
    if isinstance(value, Mapping):
        lowered = {str(k).lower(): v for k, v in value.items()}
        for keys in _CORNER_KEYS:
            if all(k in lowered for k in keys):
                return _numbers([lowered[k] for k in keys])
        return None
    if isinstance(value, str):
        found = re.findall(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|nan|inf", value.lower())
        return [float(x) for x in found] if len(found) == 4 else None
    if isinstance(value, list | tuple):
        if len(value) == 1 and isinstance(value[0], list | tuple):  # GLM writes [[x1, y1, x2, y2]]
            return _numbers(value[0])
        if len(value) == 2 and all(isinstance(p, list | tuple) and len(p) == 2 for p in value):
            value = [*value[0], *value[1]]
        if len(value) == 4 and all(isinstance(x, int | float) and not isinstance(x, bool) for x in value):
            return [float(x) for x in value]
    return None


def coordinates_in_reply(reply: str, box_format: BoxFormat) -> list[float]:
    """The first box the model wrote, as 4 raw numbers in its own convention."""
    tags = _BOX_TAG.findall(reply)
    if tags:
        return [float(x) for x in tags[0]]
    values = json_values(reply)
    for record in dicts_in(values):
        for candidate in [*field(record, _BOX_KEYS), record]:
            numbers = _numbers(candidate)
            if numbers is not None:
                return numbers
    for value in values:  # a bare [x1, y1, x2, y2]
        numbers = _numbers(value)
        if numbers is not None:
            return numbers
    if box_format == "qwen-vl-chat":
        raise ReplyError("no box found; write the box as <box>(x1,y1),(x2,y2)</box> with 0-1000 coordinates.")
    raise ReplyError(
        'no box found; reply with a JSON object like {"box": [x1, y1, x2, y2], "reasoning": "..."}.'
    )


def to_image_box(coords: Sequence[float], box_format: BoxFormat, sent_size: Size, image_size: Size) -> Box:
    """Convert the model's box to pixels of the original image, clip it, and reject nonsense."""
    rule = describe_convention(box_format, sent_size)
    shown = "[" + ", ".join(f"{c:g}" for c in coords) + "]"
    if len(coords) != 4 or not all(math.isfinite(c) for c in coords):
        raise ReplyError(f"the box {shown} must be 4 finite numbers; use {rule}.")
    x1, y1, x2, y2 = coords
    if x2 <= x1 or y2 <= y1:
        raise ReplyError(f"the box {shown} is inverted or empty (need x1 < x2 and y1 < y2); use {rule}.")
    width, height = image_size
    if box_format == "qwen2.5-vl":
        sx, sy = width / sent_size[0], height / sent_size[1]
        limit_x, limit_y = sent_size
    else:
        if max(abs(c) for c in coords) <= 1.0:
            raise ReplyError(f"the box {shown} looks like 0-1 fractions; use {rule}.")
        sx, sy = width / 1000.0, height / 1000.0
        limit_x = limit_y = 1000
    if x2 <= 0 or y2 <= 0 or x1 >= limit_x or y1 >= limit_y:
        raise ReplyError(f"the box {shown} lies entirely outside the image; use {rule}.")
    left, top = max(0.0, x1 * sx), max(0.0, y1 * sy)
    right, bottom = min(float(width), x2 * sx), min(float(height), y2 * sy)
    if right - left < 1.0 or bottom - top < 1.0:
        raise ReplyError(f"the box {shown} is smaller than one pixel once placed in the image; use {rule}.")
    return Box(left, top, right, bottom)


def from_image_box(box: Box, box_format: BoxFormat, sent_size: Size, image_size: Size) -> list[float]:
    """The inverse of `to_image_box`: how a model of `box_format` would write `box`."""
    width, height = image_size
    if box_format == "qwen2.5-vl":
        sx, sy = sent_size[0] / width, sent_size[1] / height
    else:
        sx, sy = 1000.0 / width, 1000.0 / height
    return [box.x1 * sx, box.y1 * sy, box.x2 * sx, box.y2 * sy]


def box_formats_help() -> str:
    """One line listing the conventions, for error messages."""
    return ", ".join(repr(name) for name in get_args(BoxFormat))
