"""Success rate and speed of a scripted expert from home over every scene split.

For each split, runs the skill's expert from home on --episodes scenes from seed --seed,
without rendering, and prints the success count, failure reasons, regrasps (times the
expert opened the hand to try again) and episodes/minute. `grasp` takes one non-flat
object of `sample_scene(seed, split, 6)` (the first by index, as the scene seed orders
them); `push_then_grasp` the flat target of `sample_scene(seed, split, 6,
flat_target=True)`. (`dexagent eval --controller scripted` runs the same experts closed
loop with cameras.)

    MUJOCO_GL=egl python benchmarks/bench_experts.py --skill grasp --episodes 100 --seed 3000
    MUJOCO_GL=egl python benchmarks/bench_experts.py --skill push_then_grasp --episodes 25 --seed 200
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

os.environ.setdefault("MUJOCO_GL", "egl")

from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware.sim.expert import GraspExpert
from dexagent.hardware.sim.push_expert import PushThenGraspExpert
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scene_spec import SPLITS
from dexagent.hardware.sim.scenes import sample_scene


def run_episode(skill: str, seed: int, split: str, n_objects: int) -> tuple[bool, str | None, int]:
    """(success, failure reason, regrasps) of one episode within the skill's attempt budget."""
    push = skill == "push_then_grasp"
    scene = sample_scene(seed, split, n_objects, flat_target=push)
    target = 0 if push else next(i for i, placed in enumerate(scene.objects) if not placed.spec.flat)
    max_ticks = round(CONTROLLED_SKILLS.get(skill).attempt_seconds * 20)
    with SimRobot(scene, image_size=16, cameras=()) as robot:
        expert = PushThenGraspExpert(robot, target) if push else GraspExpert(robot, target)
        observation = robot.observe()
        ticks = 0
        while not expert.done and ticks < max_ticks and not robot.grasp_success(target):
            robot.act(expert.act(observation))
            ticks += 1
        success = robot.grasp_success(target)
        reason = None if success else (expert.failure_reason or "out of time")
        return success, reason, expert.regrasps


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skill", choices=("grasp", "push_then_grasp"), default="grasp")
    parser.add_argument("--episodes", type=int, default=25, help="episodes per split")
    parser.add_argument("--seed", type=int, default=0, help="first scene seed")
    parser.add_argument("--objects", type=int, default=6, help="objects per scene (flat target included)")
    args = parser.parse_args()
    total_ok = total = 0
    for split in SPLITS:
        start = time.perf_counter()
        seeds = range(args.seed, args.seed + args.episodes)
        results = [run_episode(args.skill, s, split, args.objects) for s in seeds]
        minutes = (time.perf_counter() - start) / 60
        ok = sum(success for success, _, _ in results)
        reasons = Counter(reason for _, reason, _ in results if reason)
        regrasps = sum(count for _, _, count in results)
        total_ok, total = total_ok + ok, total + len(results)
        print(
            f"{split:20s} {ok}/{len(results)} = {100 * ok / len(results):5.1f}%  "
            f"{len(results) / minutes:5.1f} episodes/min  regrasps: {regrasps}  "
            f"failures: {dict(reasons) or '-'}"
        )
    print(f"{'all splits':20s} {total_ok}/{total} = {100 * total_ok / total:5.1f}%")


if __name__ == "__main__":
    main()
