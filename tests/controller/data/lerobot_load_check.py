"""Run by LeRobot's own Python (not ours): load a dexagent export with `LeRobotDataset` and compare.

    LEROBOT_PYTHON lerobot_load_check.py DATASET EXPECTED.npz

EXPECTED.npz holds what dexagent exported: state, action (K, 13), head_rgb, wrist_rgb (K, H, W, 3),
head_mask (K, H, W), episode_ends (E,), tasks (E,). Prints one line per check and exits non-zero on
the first mismatch. Kept free of dexagent imports: LeRobot's environment does not have it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset


def main() -> None:
    root, expected_path = Path(sys.argv[1]), Path(sys.argv[2])
    expected = np.load(expected_path)
    dataset = LeRobotDataset("dexagent/export", root=root, video_backend="torchcodec")
    ends = expected["episode_ends"]
    assert dataset.num_episodes == len(ends), (dataset.num_episodes, len(ends))
    assert dataset.num_frames == int(ends[-1]) == len(dataset), (dataset.num_frames, len(dataset))
    assert dataset.fps == 20
    print(f"loaded: {dataset.num_episodes} episodes, {dataset.num_frames} frames")
    print(f"cameras: {dataset.meta.camera_keys}")
    starts = np.concatenate([[0], ends[:-1]])
    probes = sorted({0, int(ends[0]) - 1, int(starts[-1]), int(ends[-1]) - 1, int(ends[-1]) // 2})
    for index in probes:
        item = dataset[index]
        episode = int(np.searchsorted(ends, index, side="right"))
        assert int(item["episode_index"]) == episode, (index, int(item["episode_index"]), episode)
        np.testing.assert_allclose(item["observation.state"].numpy(), expected["state"][index], atol=1e-6)
        np.testing.assert_allclose(item["action"].numpy(), expected["action"][index], atol=1e-6)
        assert item["task"] == str(expected["tasks"][episode]), (item["task"], expected["tasks"][episode])
        for key, name in (("observation.images.head", "head_rgb"), ("observation.images.wrist", "wrist_rgb")):
            image = (item[key].numpy().transpose(1, 2, 0) * 255).round()  # LeRobot gives float CHW in [0, 1]
            error = np.abs(image - expected[name][index].astype(np.float64)).mean()
            assert error < 8.0, f"{key} frame {index}: mean error {error:.1f}"
        mask = item["observation.masks.head_target"].numpy()[0] > 0.5
        np.testing.assert_array_equal(mask, expected["head_mask"][index])
        print(f"frame {index} (episode {episode}): state, action, task, mask exact; images within tolerance")
    print("LeRobotDataset check passed")


if __name__ == "__main__":
    main()
