"""The pictures `dexagent sim` writes: a labelled camera sheet and captioned episode videos.

Apart from the commands (cli/sim.py), so numpy, PIL and imageio load only when a picture is made.
"""

from __future__ import annotations

import colorsys
from pathlib import Path
from typing import TYPE_CHECKING

import imageio.v2 as imageio
import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from dexagent.hardware import Observation
    from dexagent.hardware.sim.robot import SceneObject

_BACKGROUND = (28, 28, 32)
_TEXT = (235, 235, 235)
_MARGIN = 8
_TITLE = 22


def object_colours(count: int) -> np.ndarray:
    """uint8[count, 3]: well-separated colours (golden-ratio hues) for segmentation ids 0..count-1."""
    hues = (np.arange(count) * 0.618034 + 0.08) % 1.0
    return np.array([[round(255 * c) for c in colorsys.hsv_to_rgb(h, 0.75, 0.95)] for h in hues], np.uint8)


def colourise(segmentation: np.ndarray, count: int) -> np.ndarray:
    """uint8[H, W, 3] from an int32[H, W] segmentation (-1 background -> dark grey)."""
    palette = np.vstack([np.array([[60, 60, 66]], np.uint8), object_colours(count)])
    return palette[segmentation + 1]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()


def number_objects(image: np.ndarray, segmentation: np.ndarray) -> np.ndarray:
    """Write each visible object's index at the centre of its mask, so the legend can be read off."""
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    font = _font(max(10, image.shape[0] // 24))
    for index in np.unique(segmentation):
        if index < 0:
            continue
        ys, xs = np.nonzero(segmentation == index)
        draw.text((xs.mean(), ys.mean()), str(index), fill=(0, 0, 0), font=font, anchor="mm")
    return np.asarray(canvas)


def panel_sheet(
    panels: list[tuple[str, np.ndarray]], legend: list[tuple[tuple[int, ...], str]]
) -> Image.Image:
    """Panels side by side with titles above and a colour legend below; every panel at the first's
    size (a wrist camera of its own size is scaled, nearest pixel)."""
    size = panels[0][1].shape[0]
    panels = [(title, _square(image, size)) for title, image in panels]
    columns = 2 if size >= 200 else 1  # legend columns
    rows = -(-len(legend) // columns)
    width = len(panels) * size + (len(panels) + 1) * _MARGIN
    height = _TITLE + size + 2 * _MARGIN + rows * 18 + (_MARGIN if legend else 0)
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = _font(14)
    for column, (title, image) in enumerate(panels):
        x = _MARGIN + column * (size + _MARGIN)
        draw.text((x, 4), title, fill=_TEXT, font=font)
        sheet.paste(Image.fromarray(image), (x, _TITLE))
    top = _TITLE + size + _MARGIN
    column_width = (width - 2 * _MARGIN) // columns
    for position, (colour, label) in enumerate(legend):
        x = _MARGIN + (position // rows) * column_width  # column-major: 0, 1, 2 read downwards
        y = top + (position % rows) * 18
        draw.rectangle((x, y + 2, x + 12, y + 14), fill=colour)
        draw.text((x + 18, y), label, fill=_TEXT, font=font)
    return sheet


def label(scene_object: SceneObject) -> str:
    extra = sorted(scene_object.tags - {scene_object.category, scene_object.colour, "flat"})
    flat = " (flat)" if scene_object.flat else ""
    return f"{scene_object.index}: {scene_object.name}{flat}" + (f"  [{', '.join(extra)}]" if extra else "")


class VideoWriter:
    """Streams head | wrist frames with a caption to an MP4 at the control rate."""

    def __init__(self, out: Path, fps: float, caption: str) -> None:
        self._writer = imageio.get_writer(out, fps=fps, codec="libx264", quality=7, macro_block_size=1)
        self._caption = caption
        self._font = _font(13)
        self.frames = 0

    def __call__(self, observation: Observation, action: np.ndarray) -> None:
        size = observation.head_rgb.shape[0]
        frame = Image.new("RGB", (_even(2 * size), _even(size + 20)), _BACKGROUND)
        frame.paste(Image.fromarray(observation.head_rgb), (0, 20))
        frame.paste(Image.fromarray(_square(observation.wrist_rgb, size)), (size, 20))
        ImageDraw.Draw(frame).text(
            (4, 3), f"{self._caption}  t={observation.t:5.2f}s", fill=_TEXT, font=self._font
        )
        self._writer.append_data(np.asarray(frame))
        self.frames += 1

    def close(self) -> None:
        self._writer.close()


def _square(image: np.ndarray, size: int) -> np.ndarray:
    """`image` scaled to `size` x `size`, nearest pixel (as it is when it has that size)."""
    if image.shape[:2] == (size, size):
        return image
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.NEAREST))


def _even(value: int) -> int:
    return value + value % 2  # H.264 needs even frame sides
