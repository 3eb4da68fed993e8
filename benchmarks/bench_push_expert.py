"""Success rate and speed of the scripted push-then-grasp expert over every scene split.

For each split, runs the expert on the flat target of `sample_scene(seed, split, 6,
flat_target=True)` for --episodes seeds from --seed, without rendering, and prints the
success count, failure reasons and episodes/minute. (`dexagent eval --controller scripted
--suite nonprehensile` runs the same expert closed loop with cameras, on the unseen splits.)

    MUJOCO_GL=egl python benchmarks/bench_push_expert.py --episodes 25 --seed 200
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

os.environ.setdefault("MUJOCO_GL", "egl")

from dexagent.hardware.sim.push_expert import PushThenGraspExpert
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scene_spec import SPLITS
from dexagent.hardware.sim.scenes import sample_scene

MAX_TICKS = 400  # the rollout's 20 s budget for push_then_grasp


def run_episode(seed: int, split: str, n_objects: int) -> tuple[bool, str | None, int]:
    """(success, failure reason, ticks) of one episode."""
    with SimRobot(sample_scene(seed, split, n_objects, flat_target=True), image_size=16, cameras=()) as robot:
        expert = PushThenGraspExpert(robot, 0)
        observation = robot.observe()
        ticks = 0
        while not expert.done and ticks < MAX_TICKS:
            robot.act(expert.act(observation))
            ticks += 1
        success = robot.grasp_success(0)
        reason = None if success else (expert.failure_reason or "out of time")
        return success, reason, ticks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=25, help="episodes per split")
    parser.add_argument("--seed", type=int, default=0, help="first scene seed")
    parser.add_argument("--objects", type=int, default=6, help="objects per scene (flat target included)")
    args = parser.parse_args()
    total_ok = total = 0
    for split in SPLITS:
        start = time.perf_counter()
        results = [run_episode(s, split, args.objects) for s in range(args.seed, args.seed + args.episodes)]
        minutes = (time.perf_counter() - start) / 60
        ok = sum(success for success, _, _ in results)
        reasons = Counter(reason for _, reason, _ in results if reason)
        total_ok, total = total_ok + ok, total + len(results)
        print(
            f"{split:20s} {ok}/{len(results)} = {100 * ok / len(results):5.1f}%  "
            f"{len(results) / minutes:5.1f} episodes/min  failures: {dict(reasons) or '-'}"
        )
    print(f"{'all splits':20s} {total_ok}/{total} = {100 * total_ok / total:5.1f}%")


if __name__ == "__main__":
    main()
