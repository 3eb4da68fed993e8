"""Pictures of demonstrations: the target mask drawn over an image, and a contact sheet of episodes.

The sheet has one row per chosen episode: head camera (mask overlaid) and wrist camera at the
first, middle and last frame, under a caption with the episode, its split and its instruction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dexagent.controller.data.store import DemoStore, StoreError, decoded

MASK_COLOUR = np.array([255, 0, 255], np.float32)  # magenta: no sim object or table has it
TILE = 128
CAPTION = 16
GAP = 4


def overlay_mask(rgb: np.ndarray, mask: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """uint8[H, W, 3] with the pixels of bool[H, W] tinted and its outline drawn solid."""
    out = rgb.astype(np.float32)
    out[mask] = (1 - alpha) * out[mask] + alpha * MASK_COLOUR
    edge = mask & ~_eroded(mask)
    out[edge] = MASK_COLOUR
    return out.round().astype(np.uint8)


def _eroded(mask: np.ndarray) -> np.ndarray:
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return inner


def _tile(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image).resize((TILE, TILE), Image.Resampling.BILINEAR)


def chosen_episodes(episodes: int, count: int) -> list[int]:
    """Up to `count` episode indices spread evenly over the store, first and last included."""
    if episodes <= 0 or count <= 0:
        return []
    return sorted({round(i) for i in np.linspace(0, episodes - 1, min(count, episodes))})


def thumbnail_sheet(store: DemoStore, path: Path, count: int = 6) -> list[int]:
    """Write the contact sheet of `count` episodes to the PNG `path`; returns the episodes shown."""
    episodes = chosen_episodes(store.num_episodes, count)
    if not episodes:
        raise StoreError(f"{store.path} holds no episodes to show")
    columns = 6  # head + wrist at three moments
    width = columns * TILE + (columns - 1) * GAP
    row_height = CAPTION + TILE + GAP
    sheet = Image.new("RGB", (width, row_height * len(episodes)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for row, index in enumerate(episodes):
        span = store.episode_slice(index)
        metadata = store.episode_metadata(index)
        moments = [span.start, (span.start + span.stop - 1) // 2, span.stop - 1]
        root = store.zarr_root
        head = np.asarray(decoded(store.path, root, "data/head_rgb", moments))
        mask = np.asarray(decoded(store.path, root, "data/head_mask", moments))
        wrist = np.asarray(decoded(store.path, root, "data/wrist_rgb", moments))
        top = row * row_height
        caption = f"episode {index} | {metadata.split} | {metadata.steps} steps | {metadata.instruction}"
        draw.text((2, top + 2), caption[:110], fill="black", font=font)
        for moment in range(3):
            left = 2 * moment * (TILE + GAP)
            sheet.paste(_tile(overlay_mask(head[moment], mask[moment])), (left, top + CAPTION))
            sheet.paste(_tile(wrist[moment]), (left + TILE + GAP, top + CAPTION))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, format="PNG", optimize=True)
    return episodes
