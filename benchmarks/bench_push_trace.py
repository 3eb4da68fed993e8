"""Where does a push-then-grasp controller fail: reaching the push, the push itself, or the edge grasp?

On --episodes held-out seen-split nonprehensile scenes (the eval seed stream, as
`bench_expert_takeover.py`: a flat target among six objects), the controller makes one attempt.
Every tick records the hand's grasp site (from the arm's measured joints) and how far the target
overhangs the table's edge. Per attempt it reports the closest the site came to the expert's push
start (planned from the scene at home), split into the height above it and
the distance beside it in the table plane; how far the object was pushed (its best overhang gain);
whether it reached the overhang the edge grasp needs; and how it ended. A controller that sweeps
over a plate shows a push start reached at a positive height and no gain. `--controller scripted`
is the reference.

    MUJOCO_GL=egl python benchmarks/bench_push_trace.py --episodes 20 --seed 7 --controller runs/push_cnn
    MUJOCO_GL=egl python benchmarks/bench_push_trace.py --episodes 20 --seed 7 --controller scripted
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
from held_out_attempts import attempt_options, each_attempt, held_out_scene  # benchmarks/ is on sys.path

from dexagent.agent.world import ControllerChoices
from dexagent.hardware.sim.expert import shared_ik
from dexagent.hardware.sim.push_expert import OVERHANG_TOLERANCE, PushThenGraspExpert
from dexagent.hardware.sim.scene_spec import TABLE_TOP_Z
from dexagent.hardware.types import ARM_DOF

SKILL = "push_then_grasp"


@dataclass(frozen=True)
class PushTrace:
    """One attempt: how near the hand came to the push start, how far the object went, how it ended."""

    target: str
    success: bool
    reason: str | None
    above: float  # m: the site's height above the push start at its closest approach
    beside: float  # m: its distance from the push start in the table plane there
    closest_tick: int
    gain: float  # m: the best overhang reached minus the overhang at home
    pushed_enough: bool  # the overhang reached what the edge grasp needs


def run(seed: int, controllers: ControllerChoices) -> PushTrace | None:
    """One attempt on scene `seed`; None when the seed draws no scene."""
    ik = shared_ik()
    with held_out_scene(seed, controllers, SKILL) as scene:
        if scene is None:
            return None
        sim, target = scene.sim, scene.target
        gauge = PushThenGraspExpert(sim, target)  # measures only: it never acts
        start, wanted = gauge.push_start(), gauge.wanted_overhang()
        home_overhang = gauge.overhang()
        sites: list[np.ndarray] = []
        overhangs: list[float] = []

        def on_tick(_: object, action: np.ndarray) -> None:
            site, _rotation = ik.site_pose(sim.state()[:ARM_DOF].astype(float))
            sites.append(site)
            if sim.object_z_range(target)[1] > TABLE_TOP_Z:  # on the table or held: not knocked to the floor
                overhangs.append(gauge.overhang())

        outcome = scene.attempt(controllers, on_tick)
        name = sim.objects[target].name
    offsets = np.array(sites) - start
    distance = np.linalg.norm(offsets, axis=1)
    closest = int(np.argmin(distance))
    best = max(overhangs, default=home_overhang)
    return PushTrace(
        name,
        outcome.success,
        outcome.reason,
        float(offsets[closest, 2]),
        float(np.linalg.norm(offsets[closest, :2])),
        closest,
        best - home_overhang,
        best >= wanted - OVERHANG_TOLERANCE,
    )


def _summary(label: str, traces: list[PushTrace]) -> str:
    if not traces:
        return f"{label}: none"
    above = np.array([t.above for t in traces]) * 100
    beside = np.array([t.beside for t in traces]) * 100
    gain = np.array([t.gain for t in traces]) * 100
    pushed = [t for t in traces if t.pushed_enough]
    return (
        f"{label}: {len(traces)} attempts; closest to the push start at tick median "
        f"{np.median([t.closest_tick for t in traces]):.0f}, {np.median(above):+.1f} cm above it "
        f"({above.min():+.1f} to {above.max():+.1f}) and {np.median(beside):.1f} cm beside it "
        f"({beside.min():.1f} to {beside.max():.1f}); pushed {np.median(gain):.1f} cm "
        f"({gain.min():.1f} to {gain.max():.1f}); far enough for the edge grasp {len(pushed)}/{len(traces)}, "
        f"of which grasped {sum(t.success for t in pushed)}"
    )


def main() -> None:
    args = attempt_options(__doc__ or "", episodes=20, seed=7).parse_args()
    started = time.perf_counter()
    controllers = ControllerChoices(args.controller, (SKILL,))  # the checkpoint read once, here
    traces = each_attempt(args, lambda seed: run(seed, controllers))
    wins = [t for t in traces if t.success]
    reasons = Counter(t.reason or "failed" for t in traces if not t.success)
    print(f"{args.controller}: {len(wins)}/{len(traces)} succeeded; failures: {dict(reasons)}")
    print(_summary("all", traces))
    print(_summary("failed", [t for t in traces if not t.success]))
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
