"""Tracking quality on sim frames: mask IoU per frame against the sim's ground truth.

Frames come from a scripted grasp (the hand approaches, hides and lifts the target). Prints
the mean IoU over frames where the target or the prediction is visible, and the share of
frames with IoU >= 0.5, for the oracle and for the streaming SAM2 tracker.

    python benchmarks/bench_tracking.py --sam2-checkpoint sam2.1_hiera_tiny.pt   # real weights
    python benchmarks/bench_tracking.py --random-weights --frames 4              # the plumbing only

Without a checkpoint (none can be downloaded here) SAM2's figures are those of random weights
and say nothing about tracking quality; `--ground-truth-predictor` replaces SAM2's network by
the sim's own segmentation to measure the streaming logic (re-prompting, occlusion) alone.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from dexagent.controller.perception.tracking_eval import TrackedEpisode, grasp_frames, track_ious
from dexagent.controller.trackers import OracleTracker
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE


class GroundTruthPredictor:
    """SAM2's image-predictor interface answered from the sim's segmentation (the logic's upper bound)."""

    def __init__(self, episode: TrackedEpisode) -> None:
        self.by_image = {id(f.head_rgb): f.head_segmentation for f in episode.frames}

    def set_image(self, image: np.ndarray) -> None:
        self.segmentation = self.by_image[id(image)]

    def predict(self, box: np.ndarray, mask_input: object, multimask_output: bool) -> tuple:
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        inside = self.segmentation[y1:y2, x1:x2]
        ids, counts = np.unique(inside[inside >= 0], return_counts=True)
        mask = (
            self.segmentation == ids[np.argmax(counts)]
            if len(ids)
            else np.zeros_like(self.segmentation, bool)
        )
        return (
            mask[None].astype(np.float32),
            np.array([0.9 if mask.sum() >= 4 else 0.1]),
            np.zeros((1, 256, 256)),
        )


def report(name: str, ious: list[float | None], seconds: float) -> None:
    scored = [iou for iou in ious if iou is not None]
    hits = sum(iou >= 0.5 for iou in scored)
    mean = float(np.mean(scored)) if scored else float("nan")
    print(
        f"{name:34s} mean IoU {mean:.3f}  IoU>=0.5 on {hits}/{len(scored)} frames  "
        f"({len(ious) - len(scored)} frames with nothing to find)  {seconds / len(ious):.2f} s/frame"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE)
    parser.add_argument("--frames", type=int, default=0, help="use only the first N frames (0: all)")
    parser.add_argument("--sam2-checkpoint", default=None)
    parser.add_argument("--random-weights", action="store_true", help="SAM2 tiny with random weights")
    parser.add_argument("--ground-truth-predictor", action="store_true")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    from dexagent.controller.perception.sam2_tracker import Sam2StreamTracker, load_sam2

    predictor = None
    if args.sam2_checkpoint or args.random_weights:
        # Before MuJoCo's EGL context: importing triton (through torchvision) after it crashed here.
        predictor = load_sam2("tiny", args.sam2_checkpoint, args.device)
    episode = grasp_frames(seed=args.seed, image_size=args.image_size, seconds=8.0, every=2)
    if args.frames:
        episode = TrackedEpisode(episode.frames[: args.frames], episode.target, episode.start_box)
    print(
        f"scene seed {args.seed}: {len(episode.frames)} frames at {args.image_size} px, "
        f"box {episode.start_box.as_tuple()}"
    )
    runs: list[tuple[str, object]] = [("oracle", OracleTracker())]
    if args.ground_truth_predictor:
        runs.append(
            ("sam2 stream (ground-truth predictor)", Sam2StreamTracker(GroundTruthPredictor(episode)))
        )
    if predictor is not None:
        label = "sam2 stream (tiny, random weights)" if args.sam2_checkpoint is None else "sam2 stream (tiny)"
        runs.append((label, Sam2StreamTracker(predictor)))
    for name, tracker in runs:
        started = time.perf_counter()
        ious = track_ious(tracker, episode)  # type: ignore[arg-type]
        report(name, ious, time.perf_counter() - started)


if __name__ == "__main__":
    main()
