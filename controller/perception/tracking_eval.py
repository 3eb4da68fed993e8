"""Tracking quality on simulated frames: a tracker's masks against the sim's ground truth (IoU per frame).

The frames come from a scripted grasp in the sim (the hand approaches, hides and lifts the
target), so a tracker meets occlusion and motion as on the robot. Used by the tests and by
benchmarks/bench_tracking.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dexagent.controller.interfaces import MaskTracker
from dexagent.hardware import Box, Observation, SafeRobot
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE


@dataclass(frozen=True)
class TrackedEpisode:
    frames: list[Observation]  # every observation carries head_segmentation
    target: int  # the object id tracked
    start_box: Box


def grasp_frames(
    seed: int = 3, image_size: int = DEFAULT_IMAGE_SIZE, seconds: float = 6.0, every: int = 2
) -> TrackedEpisode:
    """Head frames of a scripted grasp of object 0 in a seeded one-object scene (every `every`th tick)."""
    from dexagent.controller.data.rollout import run_attempt
    from dexagent.controller.scripted import ScriptedController
    from dexagent.hardware.sim.robot import SimRobot
    from dexagent.hardware.sim.scenes import sample_scene

    frames: list[Observation] = []
    with SimRobot(sample_scene(seed, n_objects=1), image_size=image_size) as sim:
        robot = SafeRobot(sim)
        robot.home()
        box = sim.object_box(0)
        if box is None:
            raise ValueError(f"object 0 is not visible in scene {seed}")
        run_attempt(
            sim,
            robot,
            ScriptedController(sim, skill="grasp"),
            0,
            seconds=seconds,
            on_observe=frames.append,
        )
    return TrackedEpisode(frames[::every], 0, box)


def mask_iou(predicted: np.ndarray, truth: np.ndarray) -> float | None:
    """IoU of two bool[H, W] masks; None when both are empty (nothing to find, nothing found)."""
    union = np.logical_or(predicted, truth).sum()
    if union == 0:
        return None
    return float(np.logical_and(predicted, truth).sum() / union)


def track_ious(tracker: MaskTracker, episode: TrackedEpisode) -> list[float | None]:
    """Start `tracker` on the first frame with the episode's box, step it through the rest; IoU per frame."""
    ious = []
    for index, frame in enumerate(episode.frames):
        mask = tracker.start(frame, episode.start_box) if index == 0 else tracker.step(frame)
        assert frame.head_segmentation is not None
        ious.append(mask_iou(np.asarray(mask, dtype=bool), frame.head_segmentation == episode.target))
    return ious
