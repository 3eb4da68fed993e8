"""Demos whose cameras have sizes of their own, from the real sim to a checkpoint that asks for them.

A frozen DINOv2 head wants 224 px; the trainable wrist CNN learns from 96 px. Collection renders
each camera at its size, the store keeps both, training batches resize each camera to its own
encoder's input, and the checkpoint records both render sizes for `run` and `eval`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must precede MuJoCo's GL setup

from dexagent.agent.world import ControllerChoices, camera_sizes  # noqa: E402
from dexagent.cli.app import app  # noqa: E402
from dexagent.controller.checkpoint import load_checkpoint  # noqa: E402
from dexagent.controller.config import EncoderConfig, PolicyConfig  # noqa: E402
from dexagent.controller.data import DemoStore  # noqa: E402
from dexagent.controller.data.collect import COLLECT_STREAM, CollectJob, record_demo, scene_seed  # noqa: E402
from dexagent.controller.data.collection import collect_into  # noqa: E402
from dexagent.controller.data.dataset import ChunkDataset, load_demo_arrays  # noqa: E402
from dexagent.controller.normalizer import Normalizer  # noqa: E402
from dexagent.controller.policy import DexGraspPolicy  # noqa: E402
from dexagent.hardware.sim.robot import sim_robot_spec  # noqa: E402

torch.set_num_threads(1)
JOB = CollectJob(image_size=224, wrist_size=96, n_objects=2, seed=3)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two scripted grasp demos, head 224 px, wrist 96 px, collected as `dexagent collect` does."""
    path = tmp_path_factory.mktemp("camera_sizes") / "demos.zarr"
    with DemoStore.create_or_append(path, image_size=224, wrist_size=96, control_hz=20.0, joints=13) as store:
        tally = collect_into(store, JOB, episodes=2)
    assert tally.kept == 2, tally.dropped_summary()
    return path


def _policy_config(tiny_config: Callable[..., PolicyConfig], head: int, wrist: int) -> PolicyConfig:
    """The tiny training config with a `head` px head encoder and a `wrist` px wrist encoder."""
    pooled = EncoderConfig(kind="cnn", width=16, patch_size=4, channels=(8, 16), pool=4)
    return tiny_config(image_size=head, wrist_image_size=wrist, head_encoder=pooled)


def test_a_collection_stores_each_camera_at_its_own_size(store_path: Path) -> None:
    store = DemoStore.open(store_path)
    assert (store.image_size, store.wrist_size) == (224, 96)
    frames = store.num_frames
    assert store["head_rgb"].shape == (frames, 224, 224, 3) and store["head_mask"].shape == (frames, 224, 224)
    assert store["wrist_rgb"].shape == (frames, 96, 96, 3) and store["wrist_table"].shape == (frames, 96, 96)
    episode = store.episode(0)
    assert episode.head_mask[0].any() and episode.wrist_table.any(axis=(1, 2)).mean() > 0.5
    # The wrist's 96 px frames are the ones a one-size 96 px collection records of the same scene,
    # frame for frame: rendered at 96, not rendered at 224 and shrunk. The expert acts the same.
    seed = store.episode_metadata(0).seed
    index = next(i for i in range(20) if scene_seed(JOB.seed, i, COLLECT_STREAM) == seed)
    one_size = record_demo(CollectJob(image_size=96, n_objects=2, seed=3), index)
    assert one_size.frames is not None
    np.testing.assert_array_equal(one_size.frames.wrist_rgb, episode.wrist_rgb)
    np.testing.assert_array_equal(one_size.frames.wrist_table, episode.wrist_table)
    np.testing.assert_array_equal(one_size.frames.action, episode.action)


def test_its_frames_load_into_batches_at_each_encoders_size(
    store_path: Path, tiny_config: Callable[..., PolicyConfig]
) -> None:
    arrays = load_demo_arrays(store_path)
    assert (arrays.image_size, arrays.wrist_size) == (224, 96)
    spec = sim_robot_spec()
    for head, wrist in ((224, 96), (112, 48)):  # as stored, and each camera resized to its encoder's
        config = _policy_config(tiny_config, head, wrist)
        dataset = ChunkDataset(
            arrays, np.arange(arrays.num_episodes), horizon=config.horizon, image_size=head, wrist_size=wrist
        )
        batch = dataset.batch(np.arange(4), torch.Generator().manual_seed(0))
        assert batch["head_rgb"].shape == (4, 3, head, head) and batch["wrist_rgb"].shape == (
            4,
            3,
            wrist,
            wrist,
        )
        assert batch["head_mask"].shape == batch["first_mask"].shape == (4, 1, head, head)
        policy = DexGraspPolicy(config, Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False)
        assert torch.isfinite(policy.compute_loss(batch))


def test_training_records_both_render_sizes_for_run_and_eval(
    store_path: Path, tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    config_file = tmp_path / "sizes.json"
    config_file.write_text(_policy_config(tiny_config, 112, 48).to_json())
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["train", "--data", str(store_path), "--out", str(out), "--config", str(config_file)]
        + ["--steps", "2", "--batch", "4", "--warmup", "1", "--val-every", "2"],
    )
    assert result.exit_code == 0, result.output
    saved = load_checkpoint(out).config
    assert (saved.camera_size, saved.wrist_camera_size) == (224, 96)  # the store's
    assert (saved.image_size, saved.wrist_input_size) == (112, 48)  # the encoders'
    assert json.loads((out / "config.json").read_text())["wrist_camera_size"] == 96
    assert camera_sizes(ControllerChoices(str(out), ("grasp",))) == (224, 96)  # what run and eval render
