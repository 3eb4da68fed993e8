"""Against LeRobot itself (optional, slow): its `LeRobotDataset` loads our export, and we import what its
own writer records. LeRobot lives in a separate environment (its pins clash with ours), named by
DEXAGENT_LEROBOT_PYTHON; without it these tests skip. Setup: controller/data/NOTES.md."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dexagent.controller.data import DemoStore
from dexagent.controller.data.lerobot_export import export_lerobot
from dexagent.controller.data.lerobot_import import import_lerobot

LEROBOT_PYTHON = os.environ.get("DEXAGENT_LEROBOT_PYTHON")
HERE = Path(__file__).parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not LEROBOT_PYTHON, reason="set DEXAGENT_LEROBOT_PYTHON to a Python with lerobot 0.4"),
]


def run_in_lerobot(script: str, *args: Path) -> str:
    assert LEROBOT_PYTHON is not None
    result = subprocess.run(
        [LEROBOT_PYTHON, str(HERE / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "SVT_LOG": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_lerobot_loads_our_export(make_smooth_store: Callable[..., DemoStore], tmp_path: Path) -> None:
    store = make_smooth_store(lengths=(6, 9, 7, 5))
    export_lerobot(store, tmp_path / "lerobot")
    frames = store.num_frames
    np.savez(
        tmp_path / "expected.npz",
        **{key: store[key][:frames] for key in ("state", "action", "head_rgb", "wrist_rgb", "head_mask")},
        episode_ends=store.episode_ends,
        tasks=np.array([m.instruction for m in store.iter_metadata()]),
    )
    output = run_in_lerobot("lerobot_load_check.py", tmp_path / "lerobot", tmp_path / "expected.npz")
    assert "LeRobotDataset check passed" in output


def test_we_import_what_lerobot_records(tmp_path: Path) -> None:
    run_in_lerobot("lerobot_write_check.py", tmp_path / "recorded", tmp_path / "written.npz")
    mapping = {"head_rgb": "observation.images.top", "head_mask": "observation.images.mask"}
    import_lerobot(tmp_path / "recorded", tmp_path / "ours.zarr", feature_names=mapping)
    store, written = DemoStore.open(tmp_path / "ours.zarr"), np.load(tmp_path / "written.npz")
    frames = store.num_frames
    np.testing.assert_array_equal(store.episode_ends, written["episode_ends"])
    for key in ("state", "action", "head_mask"):
        np.testing.assert_array_equal(store[key][:frames], written[key], err_msg=key)
    for key in ("head_rgb", "wrist_rgb"):
        assert np.abs(store[key][:frames].astype(int) - written[key]).mean() < 8.0, key
    assert [m.instruction for m in store.iter_metadata()] == ["grasp the red disc 0", "grasp the red disc 1"]
