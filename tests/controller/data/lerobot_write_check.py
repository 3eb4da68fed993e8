"""Run by LeRobot's own Python (not ours): record a small dataset with LeRobot's own writer.

    LEROBOT_PYTHON lerobot_write_check.py DATASET WRITTEN.npz

Writes 2 episodes of smooth 32 px frames the way a LeRobot user records (`LeRobotDataset.create`,
`add_frame`, `save_episode`, `finalize`), with the target mask as a 3-channel image feature named
`observation.images.mask`, and saves what it wrote to WRITTEN.npz for the dexagent side to compare.
Kept free of dexagent imports: LeRobot's environment does not have it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from lerobot.datasets.lerobot_dataset import LeRobotDataset

SIZE = 32


def main() -> None:
    root, written_path = Path(sys.argv[1]), Path(sys.argv[2])
    image = {"dtype": "video", "shape": (SIZE, SIZE, 3), "names": ["height", "width", "channels"]}
    features = {
        "observation.state": {"dtype": "float32", "shape": (13,), "names": None},
        "action": {"dtype": "float32", "shape": (13,), "names": None},
        "observation.images.top": image,
        "observation.images.wrist": image,
        "observation.images.mask": {**image, "dtype": "image"},
    }
    dataset = LeRobotDataset.create("dexagent/lerobot-written", fps=20, features=features, root=root)
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    keys = ("state", "action", "head_rgb", "wrist_rgb", "head_mask")
    written: dict[str, list[np.ndarray]] = {key: [] for key in keys}
    for episode, steps in enumerate((6, 8)):
        for t in range(steps):
            disc = (xs - 8 - t - episode) ** 2 + (ys - 12) ** 2 < 16
            head = np.stack([xs * 6, ys * 6, np.full_like(xs, 90)], axis=-1).astype(np.uint8)
            head[disc] = (220, 50, 40)
            frame = {
                "observation.state": rng.normal(size=13).astype(np.float32),
                "action": rng.normal(size=13).astype(np.float32),
                "observation.images.top": head,
                "observation.images.wrist": np.ascontiguousarray(head[::-1]),
                "observation.images.mask": np.repeat(disc[..., None].astype(np.uint8) * 255, 3, axis=-1),
                "task": f"grasp the red disc {episode}",
            }
            dataset.add_frame(frame)
            written["state"].append(frame["observation.state"])
            written["action"].append(frame["action"])
            written["head_rgb"].append(head)
            written["wrist_rgb"].append(frame["observation.images.wrist"])
            written["head_mask"].append(disc)
        dataset.save_episode()
    dataset.finalize()
    np.savez(written_path, **{k: np.stack(v) for k, v in written.items()}, episode_ends=np.array([6, 14]))
    print(f"LeRobot wrote {dataset.num_episodes} episodes, {dataset.num_frames} frames to {root}")


if __name__ == "__main__":
    main()
