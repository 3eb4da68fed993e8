"""Kinesthetic demonstrations on the real robot, as in the paper: guide, then replay while recording.

1. `record_guided`: the operator moves the arm by hand (drag-teach mode) while the arm's
   joints and the hand command (the operator's keys) are sampled at the control rate.
2. `replay_and_record`: the arm goes back to the start of that trajectory and replays it with
   position control at the control rate; every tick's observation (state, head and wrist
   frames, the tracked target mask) and the replayed action are spooled to disk at once.
The episode then goes into the same zarr store as sim demonstrations, or is discarded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
from PIL import Image

from dexagent.controller.data.spool import EpisodeSpool
from dexagent.controller.interfaces import MaskTracker
from dexagent.hardware import ARM_DOF, Box, Observation, RobotSpec, SafeRobot


class GuidableRobot(Protocol):
    """A robot an operator can guide by hand (`RealRobot`)."""

    spec: RobotSpec

    def observe(self) -> Observation: ...
    def act(self, action: np.ndarray) -> None: ...
    def home(self) -> None: ...
    def close(self) -> None: ...
    def command_hand(self, values: np.ndarray) -> None: ...
    def start_drag(self) -> None: ...
    def stop_drag(self) -> None: ...


def square(image: np.ndarray, size: int, *, mask: bool = False) -> np.ndarray:
    """`image` resized to size x size (squashed, as the policy's preprocessing does)."""
    if mask:
        resized = Image.fromarray(image.astype(np.uint8) * 255).resize((size, size), Image.Resampling.NEAREST)
        return np.asarray(resized) > 127
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))


def _paced(hz: float) -> Callable[[], None]:
    period, next_tick = 1.0 / hz, [time.perf_counter()]

    def wait() -> None:
        next_tick[0] += period
        delay = next_tick[0] - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            next_tick[0] = time.perf_counter()

    return wait


def record_guided(
    robot: GuidableRobot,
    hand_command: Callable[[], np.ndarray],
    finished: Callable[[], bool],
    *,
    max_seconds: float = 120.0,
) -> np.ndarray:
    """The guided trajectory float32[T, 13]: measured arm joints + the hand command, at the control rate."""
    wait = _paced(robot.spec.control_hz)
    trajectory: list[np.ndarray] = []
    robot.start_drag()
    try:
        started = time.monotonic()
        while not finished() and time.monotonic() - started < max_seconds:
            hand = np.asarray(hand_command(), dtype=np.float32)
            robot.command_hand(hand)
            state = robot.observe().state
            trajectory.append(np.concatenate([state[:ARM_DOF], hand]).astype(np.float32))
            wait()
    finally:
        robot.stop_drag()
    if not trajectory:
        raise ValueError("nothing was recorded (finished before the first tick)")
    return np.stack(trajectory)


def move_to_start(
    robot: SafeRobot, start: np.ndarray, *, tolerance: float = 0.01, max_ticks: int = 400
) -> None:
    """Rate-limited approach to `start` (not recorded): the safety layer sets the pace."""
    wait = _paced(robot.spec.control_hz)
    for _ in range(max_ticks):
        state = robot.observe().state
        if np.max(np.abs(state[:ARM_DOF] - start[:ARM_DOF])) <= tolerance:
            return
        robot.act(start)
        wait()
    raise TimeoutError(f"the arm did not reach the start of the demonstration within {max_ticks} ticks")


def replay_and_record(
    robot: SafeRobot,
    trajectory: np.ndarray,
    tracker: MaskTracker,
    target_box: Box,
    spool: EpisodeSpool,
    image_size: int,
) -> int:
    """Replay `trajectory` at the control rate, spooling every tick; returns the ticks recorded."""
    move_to_start(robot, trajectory[0])
    wait = _paced(robot.spec.control_hz)
    no_table = np.zeros((image_size, image_size), dtype=bool)  # the table's pixels are a sim-only label
    for index, action in enumerate(trajectory):
        observation = robot.observe()
        mask = tracker.start(observation, target_box) if index == 0 else tracker.step(observation)
        robot.act(action)
        spool.append(
            action=np.asarray(action, dtype=np.float32),
            state=observation.state.astype(np.float32),
            head_rgb=square(observation.head_rgb, image_size),
            head_mask=square(np.asarray(mask, dtype=bool), image_size, mask=True),
            wrist_rgb=square(observation.wrist_rgb, image_size),
            head_table=no_table,
            wrist_table=no_table,
        )
        wait()
    return len(trajectory)
