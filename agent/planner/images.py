"""Camera images as the model receives them: resized, encoded, wrapped in base64 data URLs."""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

from dexagent.agent.planner.boxes import BoxFormat, Size
from dexagent.agent.planner.errors import PlannerError

ImageEncoding = Literal["png", "jpeg"]
# Qwen2.5-VL's processor rounds images to multiples of 28 px (14 px patches merged 2x2); sending
# exactly that size means the pixels the model answers in are the pixels we sent.
QWEN_FACTOR = 28
MAX_PIXELS = 1280 * 28 * 28  # a common vLLM/DashScope setting; the processor's own default is larger


@dataclass(frozen=True)
class SentImage:
    """One image as sent: its data URL, its size as sent and its original size (both (width, height))."""

    url: str
    sent_size: Size
    image_size: Size


def smart_resize(
    width: int,
    height: int,
    *,
    factor: int = QWEN_FACTOR,
    max_pixels: int = MAX_PIXELS,
    min_pixels: int = 56 * 56,
) -> Size:
    """The (width, height) Qwen2.5-VL's processor would use: multiples of `factor`, pixel count bounded."""
    w_bar = max(factor, round(width / factor) * factor)
    h_bar = max(factor, round(height / factor) * factor)
    if w_bar * h_bar > max_pixels:
        beta = math.sqrt(width * height / max_pixels)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
    elif w_bar * h_bar < min_pixels:
        beta = math.sqrt(min_pixels / (width * height))
        w_bar = math.ceil(width * beta / factor) * factor
        h_bar = math.ceil(height * beta / factor) * factor
    return w_bar, h_bar


def send_size(
    width: int, height: int, box_format: BoxFormat, max_side: int, max_pixels: int = MAX_PIXELS
) -> Size:
    """The size we send an image at: no larger than `max_side`, and Qwen2.5-VL-aligned when it matters.

    An aligned size within the server's pixel bounds passes its processor unchanged, so keep
    `max_pixels` at or below the server's own setting.
    """
    scale = min(1.0, max_side / max(width, height))
    width_s, height_s = max(1, round(width * scale)), max(1, round(height * scale))
    if box_format == "qwen2.5-vl":
        return smart_resize(width_s, height_s, max_pixels=max_pixels)
    return width_s, height_s


def encode_image(
    rgb: np.ndarray,
    *,
    box_format: BoxFormat,
    max_side: int = 1024,
    encoding: ImageEncoding = "png",
    jpeg_quality: int = 90,
    max_pixels: int = MAX_PIXELS,
) -> SentImage:
    """Encode an RGB image uint8[H, W, 3] as a data URL, resized for the model's box convention."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", type(rgb).__name__)
        raise PlannerError(
            f"planner images must be uint8[H, W, 3] RGB arrays, got shape {shape} dtype {dtype}"
        )
    height, width = rgb.shape[:2]
    sent = send_size(width, height, box_format, max_side, max_pixels)
    image = Image.fromarray(np.ascontiguousarray(rgb))
    if sent != (width, height):
        image = image.resize(sent, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    if encoding == "jpeg":
        image.save(buffer, format="JPEG", quality=jpeg_quality)
    else:
        image.save(buffer, format="PNG")
    payload = base64.b64encode(buffer.getvalue()).decode("ascii")
    return SentImage(
        url=f"data:image/{encoding};base64,{payload}", sent_size=sent, image_size=(width, height)
    )
