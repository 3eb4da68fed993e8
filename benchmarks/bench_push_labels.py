"""What does the push expert teach a learned push-then-grasp policy in the states the policy visits?

On --episodes held-out seen-split nonprehensile scenes (the eval seed stream, as
`bench_push_trace.py`), the controller drives one attempt while a scripted push expert labels
every tick from the state the policy left (as on-policy collection with beta 0 does). It prints
the share of the ticks in each of the labeller's phases, over all ticks and with the hand's grasp
site under 5 cm above the table (at the push), and for the low ticks labelled "rise" (rise 15 cm
and start the push over) while the object does not yet overhang enough: how far the hand was
turned off the push's rotation, how far beside, along and above the push start it was. A high
"rise" share means the labels restart the demo where the policy needs a correction. After the
push (the object overhangs enough, the edge grasp planned) it prints each label with the hand's
median height, distance from the grasp point and turn off the grasp's rotation.

    MUJOCO_GL=egl python benchmarks/bench_push_labels.py --episodes 8 --seed 7 --controller runs/push_cnn
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
from held_out_attempts import attempt_options, each_attempt, held_out_scene  # benchmarks/ is on sys.path

from dexagent.agent.world import ControllerChoices, RunControllers
from dexagent.controller.data.on_policy import OnPolicyController
from dexagent.controller.data.rollout import run_attempt
from dexagent.controller.scripted import ScriptedController
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware.sim.expert import ROTATION_TOLERANCE, _rotation_error, shared_ik
from dexagent.hardware.sim.push_expert import (
    NEAR_PUSH_START,
    PUSH_LINE_AHEAD,
    TURN_ON_THE_WAY,
    PushThenGraspExpert,
)
from dexagent.hardware.sim.scene_spec import TABLE_TOP_Z
from dexagent.hardware.sim.scenes import PUSH_SIDE
from dexagent.hardware.types import ARM_DOF

SKILL = "push_then_grasp"
LOW = 0.05  # m above the table: the hand is at the push

Tick = tuple[str, float, float, float, float, float]  # phase, height, turn, |x off|, along, z off
Edge = tuple[str, float, float, float]  # phase, height, distance from the edge grasp, turn off its rotation


def run(seed: int, controllers: ControllerChoices) -> tuple[list[Tick], list[Edge]] | None:
    """The labeller's phase and the hand's offsets from the push start at every tick of one attempt,
    and, once the object overhangs enough and the edge grasp is planned, the hand's offsets from it."""
    ik = shared_ik()
    with held_out_scene(seed, controllers, SKILL) as scene:
        if scene is None:
            return None
        sim = scene.sim
        student = RunControllers(controllers, sim, seed=seed)(SKILL)
        labeller = ScriptedController(sim, SKILL)
        policy = OnPolicyController(student, labeller, 0.0, seed, horizon=1)
        ticks: list[Tick] = []
        edge: list[Edge] = []

        def on_tick(_: object, action: np.ndarray) -> None:
            expert = labeller.expert
            assert isinstance(expert, PushThenGraspExpert)
            site, rotation = ik.site_pose(sim.state()[:ARM_DOF].astype(float))
            off = (site - expert.push_start()) * [1, PUSH_SIDE, 1]  # y: toward the edge
            turn = _rotation_error(rotation, expert.push_rotation())
            phase = expert.phase.rstrip("123") if not expert.pushed_enough() else "edge: " + expert.phase
            ticks.append((phase, site[2] - TABLE_TOP_Z, turn, abs(off[0]), off[1], off[2]))
            if expert.pushed_enough() and expert.plan is not None:
                pose = expert.plan.pose
                apart = float(np.linalg.norm(site - pose.grasp))
                grasp_turn = _rotation_error(rotation, pose.rotation)
                edge.append((expert.phase, site[2] - TABLE_TOP_Z, apart, grasp_turn))

        try:
            seconds = CONTROLLED_SKILLS.get(SKILL).attempt_seconds
            run_attempt(sim, scene.robot, policy, scene.target, seconds=seconds, on_tick=on_tick)
        finally:
            policy.close()
    return ticks, edge


def _shares(ticks: list[Tick]) -> str:
    counts = Counter(t[0] for t in ticks)
    return ", ".join(f"{phase} {n / len(ticks):.0%}" for phase, n in counts.most_common())


def _edge_summary(edge: list[Edge]) -> str:
    """Per edge-grasp label (most common first): its share, and the hand's median height, distance
    from the grasp point and turn off the grasp's rotation in the ticks it labels."""
    rows = []
    for phase, n in Counter(t[0] for t in edge).most_common():
        values = np.array([t[1:] for t in edge if t[0] == phase]) * [100, 100, 1]
        height, apart, turn = np.median(values, axis=0)
        where = f"{height:.0f} cm high, {apart:.0f} cm away, {turn:.2f} rad"
        rows.append(f"{phase} {n / len(edge):.0%} ({where})")
    return ", ".join(rows)


def main() -> None:
    args = attempt_options(__doc__ or "", episodes=8, seed=7, verbose=False).parse_args()
    started = time.perf_counter()
    controllers = ControllerChoices(args.controller, (SKILL,))
    attempts = each_attempt(args, lambda seed: run(seed, controllers))
    ticks = [t for attempt, _ in attempts for t in attempt]
    edge = [t for _, attempt in attempts for t in attempt]
    low = [t for t in ticks if t[1] < LOW]
    print(f"{args.controller}: labels over {len(ticks)} ticks: {_shares(ticks)}")
    print(f"with the hand under {LOW * 100:.0f} cm: {len(low)} ticks: {_shares(low)}")
    rise = np.array([t[2:] for t in low if t[0] == "rise"]).reshape(-1, 4) * [1, 100, 100, 100]
    if len(rise):
        print(
            f"low 'rise' labels: {len(rise)} ticks; turned off the push's rotation median "
            f"{np.median(rise[:, 0]):.2f} rad ({np.mean(rise[:, 0] > ROTATION_TOLERANCE):.0%} over "
            f"{ROTATION_TOLERANCE}, {np.mean(rise[:, 0] > TURN_ON_THE_WAY):.0%} over {TURN_ON_THE_WAY}); "
            f"beside the push start median {np.median(rise[:, 1]):.1f} cm; "
            f"along it {np.median(rise[:, 2]):+.1f} cm "
            f"(5-95%: {np.percentile(rise[:, 2], 5):+.1f} to {np.percentile(rise[:, 2], 95):+.1f}); "
            f"above it {np.median(rise[:, 3]):+.1f} cm; past the push line's end (over or beside the object) "
            f"{np.mean(rise[:, 2] >= PUSH_LINE_AHEAD * 100):.0%}, further behind it than "
            f"{NEAR_PUSH_START * 100:.0f} cm {np.mean(rise[:, 2] <= -NEAR_PUSH_START * 100):.0%}"
        )
    if edge:
        print(f"after the push, the edge grasp planned: {len(edge)} ticks: {_edge_summary(edge)}")
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
