"""Which episodes a run trains on and how often: collection rounds, and recoveries drawn more often."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from dexagent.controller.config import PolicyConfig
from dexagent.controller.data.dataset import ChunkDataset, load_demo_arrays
from dexagent.controller.data.store import DemoStore, EpisodeFrames, EpisodeMetadata
from dexagent.controller.training import TrainConfig, TrainingError, train
from dexagent.controller.training.checkpointing import ResumedRun
from dexagent.controller.training.setup import load_data, recovery_repeats
from dexagent.hardware.types import ARM_DOF

OPEN, CLOSED = 0.0, 1.0


def _hand(closures: list[float]) -> np.ndarray:
    """float32 (T, 13) actions whose finger joints close to each tick's closure (1: closed)."""
    actions = np.zeros((len(closures), 13), dtype=np.float32)
    actions[:, ARM_DOF + 1 :] = 1.0 - np.asarray(closures, dtype=np.float32)[:, None]
    return actions


def _rounds_store(path: Path, episodes: list[tuple[int, list[float]]], image_size: int = 16) -> Path:
    """A store whose episode i was collected in round episodes[i][0] with hand closures episodes[i][1]."""
    rng = np.random.default_rng(0)
    with DemoStore.create_or_append(path, image_size=image_size, control_hz=20.0, joints=13) as store:
        for index, (round_, closures) in enumerate(episodes):
            steps = len(closures)
            action = _hand(closures)
            mask = np.zeros((steps, image_size, image_size), dtype=bool)
            mask[:, 4:8, 4:8] = True
            frames = EpisodeFrames(
                action=action, state=action.copy(), head_mask=mask,
                head_rgb=rng.integers(0, 255, (steps, image_size, image_size, 3), dtype=np.uint8),
                wrist_rgb=rng.integers(0, 255, (steps, image_size, image_size, 3), dtype=np.uint8),
                head_table=~mask, wrist_table=np.zeros_like(mask),
            )  # fmt: skip
            metadata = EpisodeMetadata(
                index, "seen", "grasp", "cube", "toy", "red", (), "grasp the cube", (4, 4, 8, 8), steps,
                round=round_,
            )  # fmt: skip
            store.append_episode(frames, metadata)
    return path


GRASP = [OPEN] * 6 + [CLOSED] * 6  # closes once: a plain grasp
RECOVERY = [OPEN] * 4 + [CLOSED] * 3 + [OPEN] * 2 + [CLOSED] * 3  # closes, re-opens, closes again


def test_the_store_rounds_reach_the_arrays_and_a_run_keeps_only_the_asked_ones(tmp_path: Path) -> None:
    data = _rounds_store(tmp_path / "d.zarr", [(0, GRASP), (1, RECOVERY), (1, GRASP), (3, GRASP)] * 3)
    arrays, split, _ = load_data(data, TrainConfig(val_fraction=0.25), PolicyConfig(), None)
    assert arrays.rounds.tolist() == [0, 1, 1, 3] * 3
    everything = np.concatenate([split.train, split.val])
    assert sorted(everything.tolist()) == list(range(12))

    _, kept, _ = load_data(data, TrainConfig(val_fraction=0.25, rounds=(3, 0)), PolicyConfig(), None)
    assert set(arrays.rounds[kept.train]) | set(arrays.rounds[kept.val]) == {0, 3}
    # The split is the store's seeded one, filtered: an episode never changes sides.
    assert set(kept.train) <= set(split.train) and set(kept.val) <= set(split.val)

    with pytest.raises(TrainingError, match=r"--round 7: .* holds no training episode .*its rounds: 0, 1, 3"):
        load_data(data, TrainConfig(rounds=(7,)), PolicyConfig(), None)


def test_episodes_whose_labels_reopen_the_hand_are_drawn_weight_times_as_often(tmp_path: Path) -> None:
    data = _rounds_store(tmp_path / "d.zarr", [(0, GRASP), (4, RECOVERY), (4, GRASP)])
    arrays = load_demo_arrays(data)
    episodes = np.arange(3)
    assert recovery_repeats(arrays, episodes, 1) is None
    repeats = recovery_repeats(arrays, episodes, 4)
    assert repeats is not None and repeats.tolist() == [1, 4, 1]

    weighted = ChunkDataset(arrays, episodes, horizon=4, image_size=16, episode_repeats=repeats)
    plain = ChunkDataset(arrays, episodes, horizon=4, image_size=16)
    assert len(plain) == 36 and len(weighted) == 36 + 3 * 12
    counts = np.bincount(arrays.episode_of_frame[weighted.frames], minlength=3)
    assert counts.tolist() == [12, 48, 12]
    # Each of the recovery's frames is there 4 times, with its own chunk.
    recovery = weighted.frames[arrays.episode_of_frame[weighted.frames] == 1]
    frames, times = np.unique(recovery, return_counts=True)
    assert frames.tolist() == list(range(12, 24)) and set(times) == {4}


def test_rounds_and_recovery_weight_are_settings_a_resume_keeps() -> None:
    saved = dataclasses.asdict(TrainConfig(rounds=(0, 3), recovery_weight=4))
    saved["rounds"] = list(saved["rounds"])  # as JSON gives it back
    run = ResumedRun(policy=None, state={"step": 5, "train_config": saved})  # type: ignore[arg-type]
    settings, ignored = run.settings(TrainConfig())
    assert settings.rounds == (0, 3) and settings.recovery_weight == 4 and len(ignored) == 2
    with pytest.raises(TrainingError, match="recovery_weight must be positive"):
        TrainConfig(recovery_weight=0)
    with pytest.raises(TrainingError, match="rounds must be >= 0"):
        TrainConfig(rounds=(-1,))


def test_a_run_on_chosen_rounds_with_weighted_recoveries_trains_and_says_so(
    tmp_path: Path, tiny_config: Callable[..., PolicyConfig]
) -> None:
    data = _rounds_store(tmp_path / "d.zarr", [(0, GRASP), (2, RECOVERY), (3, RECOVERY), (3, GRASP)] * 2)
    console = Console(record=True, width=400)
    settings = TrainConfig(
        steps=6, batch_size=4, warmup_steps=1, val_every=3, val_batches=1, save_every=6, seed=1,
        rounds=(0, 3), recovery_weight=3, log_to=(),
    )  # fmt: skip
    result = train(data, tmp_path / "run", settings, tiny_config(), show_progress=False, console=console)
    assert result.step == 6 and all(np.isfinite(loss) for _, loss in result.losses)
    text = console.export_text()
    assert "rounds 0, 3" in text and "episodes that re-open the hand drawn 3x" in text
