"""Warm starts: a fresh run whose weights begin as a trained checkpoint's (`dexagent train --init-from`).

The new config may add inputs to the state token (e.g. `time_input`): a linear layer whose
input grew keeps the checkpoint's columns and starts the new ones at zero, so at step 0 the
warm-started policy acts exactly as the checkpoint did and training decides how much the new
input matters. Tensors the checkpoint lacks keep their fresh initialisation; any other shape
difference is an error, as is a different action mode (the weights model another target),
except a patch embedding whose patches grew by a whole factor (the head rendered at twice the
size and its tokens pooled 2x, so the mask ViT's patches are twice as wide): its kernel is
resampled so that it computes on the new mask what it computed on the old one (see
`_grown_patch_kernel`), and the position embeddings of a camera's token grid that grew (its
tokens unpooled, e.g. 6x6 -> 12x12): they are interpolated over the new grid (`_regridded`), as a
ViT's are when it is fine-tuned at a higher resolution; the other camera's and the state's carry over.
A config without the checkpoint's `time_input` keeps the state projection's other columns.
The checkpoint's normaliser comes along unless the new config scales actions another way
(`action_range`): then the run keeps the ranges of its data and the weights adapt to them.
Where the new data reaches well outside the checkpoint's ranges (another skill's motions:
push-then-grasp from grasp weights), the ranges widen to cover both: the sampler clips to
the normalised range, so a narrower one could never produce the new motions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from dexagent.controller.checkpoint import CheckpointError, load_checkpoint
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy

# How far (a share of the checkpoint's span) the new data may reach beyond the checkpoint's ranges
# before they widen: on-policy rollouts of the same skill stay within it.
RANGE_TOLERANCE = 0.05
TIME_COLUMN_OF = "state_proj.0.weight"  # the layer whose last input column is the time (`time_input`)


@dataclass(frozen=True)
class WarmStart:
    copied: int  # tensors taken as they are
    widened: tuple[str, ...]  # tensors whose new input columns start at zero
    fresh: tuple[str, ...]  # tensors the checkpoint does not have
    normalizer: Normalizer | None  # the checkpoint's (or both ranges'), when the policy took it
    ranges_widened: int = 0  # dimensions whose ranges were widened to cover the new data
    # patch kernels resampled to larger patches, token grids regridded, a dropped time column removed
    resampled: tuple[str, ...] = ()

    def summary(self) -> str:
        parts = [f"{self.copied} tensors copied"]
        if self.widened:
            parts.append(f"new input columns zeroed in {', '.join(self.widened)}")
        if self.resampled:
            parts.append(f"resampled to the new patches, token grids or inputs: {', '.join(self.resampled)}")
        if self.fresh:
            parts.append(f"{len(self.fresh)} tensors freshly initialised (e.g. {', '.join(self.fresh[:3])})")
        if self.normalizer is None:
            parts.append("the data's action ranges")
        elif self.ranges_widened:
            parts.append(f"its normaliser, widened in {self.ranges_widened} dimensions to cover the data")
        else:
            parts.append("its normaliser")
        return "; ".join(parts)


def warm_start(policy: DexGraspPolicy, directory: str | Path) -> WarmStart:
    """Load the checkpoint in `directory` into `policy` (in place) as far as the configs agree."""
    source = load_checkpoint(directory)  # a bad checkpoint fails here with its own message
    if source.config.action_mode != policy.config.action_mode:
        raise CheckpointError(
            f"--init-from {directory}: action_mode {source.config.action_mode!r} there, "
            f"{policy.config.action_mode!r} in the new config"
        )
    if (source.state_dim, source.action_dim) != (policy.state_dim, policy.action_dim):
        raise CheckpointError(
            f"--init-from {directory}: it acts in {source.action_dim} dimensions from {source.state_dim}-D "
            f"states; the data's robot has {policy.action_dim}-D actions and {policy.state_dim}-D states"
        )
    weights = source.state_dict()
    target = policy.state_dict()
    grids = (
        (source.config.head_grid, source.config.wrist_grid),
        (policy.config.head_grid, policy.config.wrist_grid),
    )
    # The time is the state token's last input: a config that drops it keeps the other columns.
    drops_time = source.config.time_input and not policy.config.time_input
    copied, widened, resampled, fresh, wrong = 0, [], [], [], []
    with torch.no_grad():
        for key, value in target.items():
            if key not in weights:
                fresh.append(key)
                continue
            old = weights[key]
            if old.shape == value.shape:
                value.copy_(old)
                copied += 1
            elif old.ndim == 2 and old.shape[0] == value.shape[0] and old.shape[1] < value.shape[1]:
                value.zero_()
                value[:, : old.shape[1]] = old
                widened.append(key)
            elif drops_time and key == TIME_COLUMN_OF and old.shape[1] == value.shape[1] + 1:
                value.copy_(old[:, :-1])
                resampled.append(key)
            elif (carried := _resampled(key, old, value.shape, grids)) is not None:
                value.copy_(carried)
                resampled.append(key)
            else:
                wrong.append(f"{key}: {tuple(old.shape)} there vs {tuple(value.shape)} here")
    if wrong:
        raise CheckpointError(
            f"--init-from {directory}: {len(wrong)} tensors cannot carry over (e.g. {'; '.join(wrong[:3])})"
        )
    policy.load_state_dict(target)
    if source.config.action_range != policy.config.action_range:
        return WarmStart(copied, tuple(widened), tuple(fresh), None, resampled=tuple(resampled))
    data, kept = policy.normalizer, source.normalizer
    outside = kept.outside(data, RANGE_TOLERANCE)
    if outside.any():
        kept = kept.union(data)
    policy.set_normalizer(kept)
    return WarmStart(copied, tuple(widened), tuple(fresh), kept, int(outside.sum()), tuple(resampled))


def _resampled(
    key: str, old: torch.Tensor, shape: torch.Size, grids: tuple[tuple[int, int], tuple[int, int]]
) -> torch.Tensor | None:
    """`old` carried to `shape` where the change is a larger patch or a finer token grid, else None.

    `grids` holds (head, wrist) tokens per side, the checkpoint's then the new config's."""
    (head, wrist), (new_head, new_wrist) = grids
    if key == "mask_encoder.pos_embed":  # the head's grid only
        return _regridded(old, shape, ((head, new_head),))
    if key == "obs_pos":  # the head's grid, the wrist's, then the state token
        return _regridded(old, shape, ((head, new_head), (wrist, new_wrist)))
    return _grown_patch_kernel(old, shape)


def _regridded(
    old: torch.Tensor, shape: torch.Size, grids: tuple[tuple[int, int], ...]
) -> torch.Tensor | None:
    """(1, T, D) positions whose leading sections are square token grids, each (side, new side)
    bilinearly resized to its new side, the tokens after them as they were; None when no grid
    changed or the shapes differ in anything else."""
    if old.ndim != 3 or len(shape) != 3 or all(side == new for side, new in grids):
        return None
    if sum(side * side for side, _ in grids) > old.shape[1]:
        return None
    parts, start = [], 0
    for side, new_side in grids:
        parts.append(_resized_grid(old[:, start : start + side * side], side, new_side))
        start += side * side
    carried = torch.cat([*parts, old[:, start:]], dim=1)
    return carried if carried.shape == shape else None


def _resized_grid(tokens: torch.Tensor, side: int, new_side: int) -> torch.Tensor:
    """(1, side^2, D) row-major grid positions -> (1, new_side^2, D), bilinear."""
    if new_side == side:
        return tokens
    grid = tokens.reshape(1, side, side, -1).permute(0, 3, 1, 2)
    grid = torch.nn.functional.interpolate(
        grid, size=(new_side, new_side), mode="bilinear", align_corners=False
    )
    return grid.permute(0, 2, 3, 1).reshape(1, new_side * new_side, -1)


def _grown_patch_kernel(old: torch.Tensor, shape: torch.Size) -> torch.Tensor | None:
    """A (out, in, k, k) patch kernel resampled to (out, in, f*k, f*k), or None if it is not one.

    Each old weight is spread over the f x f block it now covers, divided by f^2: on a mask
    rendered f times larger the new kernel sums what the old one summed on that mask averaged
    over f x f blocks, so the warm-started mask ViT sees the same patch tokens as before.
    """
    if old.ndim != 4 or len(shape) != 4 or tuple(old.shape[:2]) != tuple(shape[:2]):
        return None
    side, new_side = old.shape[2], shape[2]
    if old.shape[3] != side or shape[3] != new_side or new_side <= side or new_side % side:
        return None
    factor = new_side // side
    return old.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3) / factor**2
