"""Mask trackers. `OracleTracker` reads the simulator's head segmentation (sim only)."""

from __future__ import annotations

import numpy as np

from dexagent.hardware import Box, Observation, object_under_box


class TrackerError(RuntimeError):
    """A mask tracker cannot run on this observation (e.g. the oracle on a real robot)."""


def _segmentation(observation: Observation) -> np.ndarray:
    segmentation = observation.head_segmentation
    if segmentation is None:
        raise TrackerError(
            "the oracle tracker needs observation.head_segmentation, which only the simulator "
            "provides; on a real robot use a sam+cutie or sam2 tracker"
        )
    if segmentation.shape != observation.head_rgb.shape[:2]:
        raise TrackerError(
            f"head_segmentation shape {segmentation.shape} does not match "
            f"head_rgb {observation.head_rgb.shape[:2]}"
        )
    return segmentation


class OracleTracker:
    """The target is the object id with the most segmentation pixels inside the start box.

    `step` then returns that object's current mask: exact, and empty while the object is
    hidden (e.g. by the hand), as a real tracker would lose it.
    """

    def __init__(self) -> None:
        self.object_id: int | None = None

    def start(self, observation: Observation, target_box: Box) -> np.ndarray:
        """The target's mask bool[H, W]; raises TrackerError when the box holds no object."""
        segmentation = _segmentation(observation)
        object_id = object_under_box(segmentation, target_box)
        if object_id is None:
            raise TrackerError(
                f"no object pixels inside the target box {target_box.as_tuple()} of the head image"
            )
        self.object_id = object_id
        return segmentation == self.object_id

    def step(self, observation: Observation) -> np.ndarray:
        """The tracked object's mask bool[H, W] in this frame."""
        if self.object_id is None:
            raise TrackerError("OracleTracker.step called before start")
        return _segmentation(observation) == self.object_id
