"""Short videos of evaluation episodes for the HTML report: head camera with the target mask drawn
over it beside the wrist camera, one frame per 20 Hz tick.

Episodes are pure functions of their task (runner.py), so a chosen episode is replayed with a
recording callback after the evaluation rather than recorded during it: the evaluation itself
stays as fast and as parallel as before, and only the episodes shown pay for their frames. A
`--realtime` evaluation depends on wall-clock timing; its replays run in the tick, and each
video says when its replay ended differently from the evaluated episode.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from dexagent.agent.evaluation.runner import EpisodeRecord, EpisodeTask, EvalConfig, run_grasp_episode
from dexagent.agent.video import side_by_side
from dexagent.controller.data.thumbnails import overlay_mask
from dexagent.hardware import Observation
from dexagent.hardware.sim.scene_spec import SceneSpec
from dexagent.hardware.sim.scenes import SceneError, sample_scene

VIDEO_FPS = 20


@dataclass(frozen=True)
class EpisodeScene:
    """What an episode's scene was made of, for grouping results (object type, table, lighting)."""

    object_type: str
    category: str
    table: str
    lighting: str
    target_index: int


@dataclass(frozen=True)
class EpisodeVideo:
    record: EpisodeRecord
    mp4: bytes
    frames: int
    replay_matches: bool  # the replay ended as the evaluated episode did


def episode_scene(config: EvalConfig, record: EpisodeRecord) -> EpisodeScene | None:
    """The scene of `record` redrawn from its seed (no rendering), or None for a suite without scenes."""
    suite = config.suite
    try:
        scene: SceneSpec = sample_scene(
            record.scene_seed, record.split, suite.n_objects, flat_target=suite.flat_target
        )
    except SceneError:
        return None
    for index, placed in enumerate(scene.objects):
        if placed.spec.name == record.target_name:  # names are unique within a scene
            spec = placed.spec
            return EpisodeScene(
                spec.object_type or spec.category,
                spec.category,
                scene.background.name,
                scene.lighting.name,
                index,
            )
    return None


def choose_episodes(records: list[EpisodeRecord], max_failures: int, successes: int) -> list[EpisodeRecord]:
    """Every failure (up to `max_failures`, in order), then the first `successes` successes."""
    failed = [r for r in records if not r.success][:max_failures]
    succeeded = [r for r in records if r.success][:successes]
    return sorted(failed + succeeded, key=lambda r: r.index)


def _encode(frames: list[np.ndarray]) -> bytes:
    """H.264 in MP4 (yuv420p: plays in every browser) of uint8[H, W, 3] frames."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "episode.mp4"
        writer = imageio.get_writer(
            str(path), fps=VIDEO_FPS, codec="libx264", quality=6, macro_block_size=2, pixelformat="yuv420p"
        )
        try:
            for frame in frames:
                writer.append_data(frame)
        finally:
            writer.close()
        return path.read_bytes()


def record_video(config: EvalConfig, record: EpisodeRecord) -> EpisodeVideo | None:
    """Replay `record`'s episode with a recording callback; None when the suite has no grasp scenes."""
    scene = episode_scene(config, record)
    if scene is None or config.suite.run_episode is not None:
        return None
    frames: list[np.ndarray] = []

    def on_tick(observation: Observation, _action: np.ndarray) -> None:
        head = observation.head_rgb
        if observation.head_segmentation is not None:
            head = overlay_mask(head, observation.head_segmentation == scene.target_index)
        frames.append(side_by_side(head, observation.wrist_rgb))

    task = EpisodeTask(
        index=record.index,
        split=record.split,
        scene_seed=record.scene_seed,  # the seed the episode ran with (after any redraws)
        suite=config.suite,
        controller=config.controller,
        attempts=config.attempts,
        image_size=config.image_size,
        wrist_size=config.wrist_size,
    )
    replayed = run_grasp_episode(task, on_tick=on_tick)
    if not frames:
        return None
    matches = replace(replayed, wall_seconds=0.0).outcome() == replace(record, wall_seconds=0.0).outcome()
    return EpisodeVideo(record, _encode(frames), len(frames), matches)
