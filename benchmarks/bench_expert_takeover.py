"""Can the scripted expert finish what a learned grasp (or push-then-grasp) attempt left undone?

On --episodes held-out seen-split scenes (the eval seed stream, as `dexagent eval`; one object
for grasp, a flat target among six for `--skill push_then_grasp`), the learned controller makes
one attempt. Where it fails, the sim is left as it is (hand closed beside the object, object
pushed or tipped) and a fresh scripted expert of the skill takes over for another attempt's time.
Prints the learned success, the policy's hand re-opens per failed attempt, and the expert's
takeover success with its failure reasons.
This is the "acts from any state" figure of the on-policy data issue: an expert that
replays a plan made at home cannot label the states a policy leaves behind.

    MUJOCO_GL=egl python benchmarks/bench_expert_takeover.py --episodes 30 --seed 7
    MUJOCO_GL=egl python benchmarks/bench_expert_takeover.py --skill push_then_grasp --controller runs/push_r2
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
import torch

from dexagent.agent.evaluation.runner import EVAL_STREAM
from dexagent.agent.world import ControllerChoices, RunControllers, camera_sizes
from dexagent.controller.data.collect import scene_seed
from dexagent.controller.data.on_policy import hand_reopens
from dexagent.controller.data.rollout import choose_target, run_attempt
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import SafeRobot
from dexagent.hardware.sim.expert import GraspExpert
from dexagent.hardware.sim.push_expert import PushThenGraspExpert
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import SceneError, sample_scene


def run(seed: int, controllers: ControllerChoices, skill: str) -> tuple[bool, int, str | None, str | None]:
    """(learned success, learned re-opens, learned failure, takeover failure or None if it recovered)."""
    pushing = CONTROLLED_SKILLS.get(skill).flat_target
    try:  # a push-then-grasp scene: a flat target among the nonprehensile suite's 6 objects
        scene = sample_scene(seed, "seen", 6 if pushing else 1, flat_target=pushing)
    except SceneError:
        return True, 0, None, None  # not a scene: counted as nothing to take over
    seconds = CONTROLLED_SKILLS.get(skill).attempt_seconds
    sizes = camera_sizes(controllers)
    with SimRobot(scene, image_size=sizes.head, wrist_size=sizes.wrist) as sim:
        robot = SafeRobot(sim)
        robot.home()
        visible = [sim.object_box(o.index) is not None for o in sim.objects]
        target = choose_target(sim.objects, visible, skill, seed)
        policy = RunControllers(controllers, sim, seed=seed)(skill)
        executed: list[np.ndarray] = []
        try:
            outcome = run_attempt(
                sim, robot, policy, target, seconds=seconds, on_tick=lambda _, action: executed.append(action)
            )
        finally:
            policy.close()
        reopens = hand_reopens(np.array(executed)) if executed else 0
        if outcome.success:
            return True, reopens, None, None
        expert = PushThenGraspExpert(sim, target) if pushing else GraspExpert(sim, target)
        observation = robot.observe()
        for _ in range(round(seconds * robot.spec.control_hz)):
            robot.act(expert.act(observation))
            observation = robot.observe()
            if sim.grasp_success(target) or expert.done:
                break
        recovered = sim.grasp_success(target)
        return False, reopens, outcome.reason, None if recovered else (expert.failure_reason or "out of time")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skill", choices=("grasp", "push_then_grasp"), default="grasp")
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--controller", default="default", help="a checkpoint folder, or default")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    learned = failed = recovered = reopens_on_failures = 0
    learned_reasons: Counter[str] = Counter()
    takeover_reasons: Counter[str] = Counter()
    controllers = ControllerChoices(args.controller, (args.skill,))  # the checkpoint read once, here
    for index in range(args.episodes):
        seed = scene_seed(args.seed, index, EVAL_STREAM)
        success, reopens, reason, takeover = run(seed, controllers, args.skill)
        if success:
            learned += 1
            continue
        failed += 1
        reopens_on_failures += reopens
        learned_reasons[reason or "failed"] += 1
        if takeover is None:
            recovered += 1
        else:
            takeover_reasons[takeover] += 1
    print(
        f"learned ({args.controller}): {learned}/{args.episodes} succeeded; failures: {dict(learned_reasons)}"
    )
    print(f"learned re-opens per failed attempt: {reopens_on_failures / max(failed, 1):.2f}")
    reasons = dict(takeover_reasons)
    print(f"expert takeover from the {failed} failure states: {recovered}/{failed} succeeded; {reasons}")
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
