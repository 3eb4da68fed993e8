"""The oracle tracker follows the object that fills the planner's box, from the sim's segmentation."""

from __future__ import annotations

import numpy as np
import pytest

from dexagent.controller.interfaces import MaskTracker
from dexagent.controller.trackers import OracleTracker, TrackerError
from dexagent.hardware import Box, Observation


def _observation(segmentation: np.ndarray | None) -> Observation:
    image = np.zeros((40, 50, 3), np.uint8)
    return Observation(image, image, np.zeros(13, np.float32), 0.0, segmentation)


def _scene() -> np.ndarray:
    segmentation = -np.ones((40, 50), np.int32)
    segmentation[10:20, 10:20] = 4  # the target
    segmentation[18:30, 18:30] = 7  # a neighbour overlapping the box's corner
    return segmentation


def test_start_picks_the_object_with_most_pixels_in_the_box_and_step_follows_it() -> None:
    tracker = OracleTracker()
    assert isinstance(tracker, MaskTracker)
    mask = tracker.start(_observation(_scene()), Box(8, 8, 22, 22))
    assert tracker.object_id == 4 and mask.sum() == 100 - 4  # object 7 covers 2x2 of it
    moved = -np.ones((40, 50), np.int32)
    moved[30:35, 40:45] = 4
    assert np.array_equal(tracker.step(_observation(moved)), moved == 4)
    hidden = -np.ones((40, 50), np.int32)
    assert tracker.step(_observation(hidden)).sum() == 0


def test_box_over_background_only_is_a_tracker_error() -> None:
    with pytest.raises(TrackerError, match="no object pixels inside the target box"):
        OracleTracker().start(_observation(_scene()), Box(35, 30, 49, 39))


def test_real_robot_observation_without_segmentation_is_a_clear_error() -> None:
    with pytest.raises(TrackerError, match="only the simulator provides"):
        OracleTracker().start(_observation(None), Box(8, 8, 22, 22))


def test_step_before_start_is_an_error() -> None:
    with pytest.raises(TrackerError, match="before start"):
        OracleTracker().step(_observation(_scene()))
