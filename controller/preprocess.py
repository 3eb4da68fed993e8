"""Image and mask preprocessing shared by training (the dataset) and inference (the runtime).

One code path, so a policy sees at run time exactly what it saw in training:
uint8 (H, W, 3) -> float32 (3, S, S) in [0, 1]; bool (H, W) -> float32 (1, S, S) in {0, 1}.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from dexagent.hardware import Observation


class PreprocessError(ValueError):
    """An image, mask or state has the wrong shape or type for the policy."""


def rgb_to_tensor(images: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """uint8 images (H, W, 3) or (B, H, W, 3) -> float32 (B, 3, S, S) in [0, 1].

    Resizing is bilinear with antialiasing, so downscaled frames keep thin edges.
    """
    array = torch.as_tensor(images)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] != 3:
        raise PreprocessError(f"rgb must be (H, W, 3) or (B, H, W, 3), got shape {tuple(array.shape)}")
    if array.dtype != torch.uint8:
        raise PreprocessError(f"rgb must be uint8, got {array.dtype}")
    rgb = array.permute(0, 3, 1, 2).float().div_(255.0)
    if rgb.shape[-2:] != (size, size):
        rgb = F.interpolate(rgb, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        rgb = rgb.clamp_(0.0, 1.0)
    return rgb.contiguous()


def mask_to_tensor(masks: np.ndarray | torch.Tensor, size: int) -> torch.Tensor:
    """bool masks (H, W) or (B, H, W) -> float32 (B, 1, S, S) in {0, 1}.

    A cell is set when at least half of it is covered; a non-empty mask that would vanish
    (a target only a few pixels wide) keeps its most-covered cell, so it is never lost.
    """
    array = torch.as_tensor(masks)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise PreprocessError(f"mask must be (H, W) or (B, H, W), got shape {tuple(array.shape)}")
    mask = array.to(torch.float32)[:, None]
    if mask.shape[-2:] == (size, size):
        return (mask > 0.5).float()
    coverage = F.interpolate(mask, size=(size, size), mode="area")
    binary = (coverage >= 0.5).float()
    nonempty = mask.flatten(1).amax(1) > 0.5
    vanished = nonempty & (binary.flatten(1).amax(1) == 0)
    if vanished.any():
        flat = coverage.flatten(1)
        best = flat.argmax(dim=1)
        rows = torch.nonzero(vanished).flatten()
        binary.view(len(binary), -1)[rows, best[rows]] = 1.0
    return binary


def state_to_tensor(state: np.ndarray | torch.Tensor) -> torch.Tensor:
    """float32 (S,) or (B, S) -> float32 (B, S); the policy checks S against its own."""
    array = torch.as_tensor(np.asarray(state, dtype=np.float32))
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] == 0:
        raise PreprocessError(f"state must be (S,) or (B, S), got shape {tuple(array.shape)}")
    return array


def observation_to_batch(
    observation: Observation,
    head_mask: np.ndarray,
    first_mask: np.ndarray,
    image_size: int,
    tick: int = 0,
    wrist_size: int | None = None,
) -> dict[str, torch.Tensor]:
    """One observation + the target masks -> a batch of one in the policy's input contract.

    `image_size`: the head images' and masks' side; `wrist_size` the wrist images' (None: the same).
    `tick`: ticks since the attempt started (the observation's index in a demo).
    """
    return {
        "head_rgb": rgb_to_tensor(observation.head_rgb, image_size),
        "wrist_rgb": rgb_to_tensor(observation.wrist_rgb, image_size if wrist_size is None else wrist_size),
        "head_mask": mask_to_tensor(head_mask, image_size),
        "first_mask": mask_to_tensor(first_mask, image_size),
        "state": state_to_tensor(observation.state),
        "tick": torch.tensor([float(tick)]),
    }
