"""Kinesthetic demonstrations on the real-robot rig: guide, replay while recording, keep or lose nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from real_rig import Rig

from dexagent.controller.data import DemoStore, EpisodeMetadata
from dexagent.controller.data.kinesthetic import record_guided, replay_and_record
from dexagent.controller.data.spool import EpisodeSpool
from dexagent.hardware import Box, Observation, SafeRobot


class BoxTracker:
    """Stands in for SAM2 (no weights here): the start box as the mask, every frame."""

    def start(self, observation: Observation, target_box: Box) -> np.ndarray:
        self.mask = np.zeros(observation.head_rgb.shape[:2], dtype=bool)
        self.mask[int(target_box.y1) : int(target_box.y2), int(target_box.x1) : int(target_box.x2)] = True
        return self.mask

    def step(self, observation: Observation) -> np.ndarray:
        return self.mask


def _guide(rig: Rig, ticks: int) -> np.ndarray:
    """The operator: moves joint1 by hand 0.5 deg a tick while dragging, closes the hand halfway, stops."""
    seen = [0]
    start = list(rig.arm.joints)

    def finished() -> bool:
        assert rig.arm.dragging
        seen[0] += 1
        rig.arm.joints = [start[0] + 0.5 * seen[0], *start[1:]]
        return seen[0] > ticks

    return record_guided(rig.robot, lambda: np.full(6, 1.0 if seen[0] < ticks // 2 else 0.2), finished)


def test_a_guided_trajectory_is_replayed_and_recorded_into_the_store(rig: Rig, tmp_path: Path) -> None:
    trajectory = _guide(rig, ticks=10)
    assert not rig.arm.dragging and trajectory.shape == (10, 13)
    assert np.allclose(np.degrees(np.diff(trajectory[:, 0])), 0.5, atol=1e-4)  # the operator's motion
    assert rig.hand.angles == [200] * 6  # the hand followed the operator's command during the drag
    spool = EpisodeSpool(tmp_path / "spool" / "episode-0")
    robot = SafeRobot(rig.robot)
    ticks = replay_and_record(robot, trajectory, BoxTracker(), Box(10, 10, 30, 30), spool, image_size=32)
    assert ticks == 10
    frames = spool.frames()
    assert frames.head_rgb.shape == (10, 32, 32, 3) and frames.head_mask[0].any()
    assert np.array_equal(frames.action, trajectory)
    deadline = time.monotonic() + 5
    while not np.isclose(rig.arm.canfd[-1][0][0], np.degrees(trajectory[-1, 0]), atol=1e-3):
        assert time.monotonic() < deadline, "the replay never reached the end of the trajectory"
        time.sleep(0.01)
    with DemoStore.create_or_append(
        tmp_path / "demos.zarr", image_size=32, control_hz=20.0, joints=13
    ) as store:
        metadata = EpisodeMetadata(
            -1, "real", "grasp", "cup", "", "", (), "grasp the cup", (10, 10, 30, 30), 10
        )
        store.append_episode(frames, metadata)
        assert store.num_episodes == 1 and store.num_frames == 10


def test_a_process_that_dies_mid_episode_leaves_every_whole_tick_on_disk(rig: Rig, tmp_path: Path) -> None:
    trajectory = _guide(rig, ticks=6)
    root = tmp_path / "spool"
    spool = EpisodeSpool(root / "episode-0")
    spool.write_metadata({"instruction": "grasp the cup"})
    robot = SafeRobot(rig.robot)
    worker = threading.Thread(
        target=replay_and_record,
        args=(robot, trajectory, BoxTracker(), Box(1, 1, 9, 9), spool, 16),
        daemon=True,
    )
    worker.start()
    while spool.ticks < 3:
        time.sleep(0.01)
    (root / "episode-0" / "frame-999999.tmp.npz").write_bytes(b"torn")  # a write cut short by the crash
    found = EpisodeSpool.leftover(root)  # what the next process finds
    assert found == [root / "episode-0"]
    again = EpisodeSpool(found[0])
    assert again.metadata() == {"instruction": "grasp the cup"}
    assert again.frames().action.shape[0] >= 3  # every whole tick, the torn one ignored
    worker.join(timeout=10)
    again.discard()
    assert EpisodeSpool.leftover(root) == []
