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

import time
from collections import Counter

import numpy as np
from held_out_attempts import attempt_options, held_out_scene, scene_seeds  # benchmarks/ is on sys.path

from dexagent.agent.world import ControllerChoices
from dexagent.controller.data.on_policy import hand_reopens
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware.sim.expert import GraspExpert
from dexagent.hardware.sim.push_expert import PushThenGraspExpert


def run(seed: int, controllers: ControllerChoices, skill: str) -> tuple[bool, int, str | None, str | None]:
    """(learned success, learned re-opens, learned failure, takeover failure or None if it recovered)."""
    with held_out_scene(seed, controllers, skill) as scene:
        if scene is None:
            return True, 0, None, None  # not a scene: counted as nothing to take over
        sim, robot, target = scene.sim, scene.robot, scene.target
        executed: list[np.ndarray] = []
        outcome = scene.attempt(controllers, lambda _, action: executed.append(action))
        reopens = hand_reopens(np.array(executed)) if executed else 0
        if outcome.success:
            return True, reopens, None, None
        pushing = CONTROLLED_SKILLS.get(skill).flat_target
        expert = PushThenGraspExpert(sim, target) if pushing else GraspExpert(sim, target)
        observation = robot.observe()
        for _ in range(round(CONTROLLED_SKILLS.get(skill).attempt_seconds * robot.spec.control_hz)):
            robot.act(expert.act(observation))
            observation = robot.observe()
            if sim.grasp_success(target) or expert.done:
                break
        recovered = sim.grasp_success(target)
        return False, reopens, outcome.reason, None if recovered else (expert.failure_reason or "out of time")


def main() -> None:
    parser = attempt_options(__doc__ or "", episodes=30, seed=7, verbose=False)
    parser.add_argument("--skill", choices=("grasp", "push_then_grasp"), default="grasp")
    args = parser.parse_args()
    started = time.perf_counter()
    learned = failed = recovered = reopens_on_failures = 0
    learned_reasons: Counter[str] = Counter()
    takeover_reasons: Counter[str] = Counter()
    controllers = ControllerChoices(args.controller, (args.skill,))  # the checkpoint read once, here
    for seed in scene_seeds(args):
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
