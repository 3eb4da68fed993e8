"""Where and when does a grasp controller close the hand, against where the expert would?

On --episodes held-out `single-object` scenes (the eval seed stream, as
`bench_expert_takeover.py`), the controller makes one attempt. At the first tick whose
command closes the fingers past half, it records the tick, the hand's grasp site (from the
arm's measured joints) against the point the scripted expert plans to close at (planned at
home, moved with the object since), split into the horizontal and vertical offset, and the
site's speed over the last 0.25 s. A controller that closes on a clock closes at one tick in
every scene, wherever the hand is; one that closes above the object shows a positive
vertical offset. `--controller scripted` is the reference (its offsets are the site-to-plan
differences the physics leaves).

    MUJOCO_GL=egl python benchmarks/bench_close_offsets.py --episodes 40 --seed 2026 --controller default
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from held_out_attempts import attempt_options, each_attempt, held_out_scene  # benchmarks/ is on sys.path

from dexagent.agent.world import ControllerChoices
from dexagent.hardware.sim.expert import CLOSED, GraspExpert, closure, shared_ik
from dexagent.hardware.types import ARM_DOF

SPEED_TICKS = 5  # the site's speed is measured over this many ticks before the close (0.25 s)


@dataclass(frozen=True)
class Close:
    """One attempt: how it ended and, when the hand closed, where and when."""

    target: str
    success: bool
    reason: str | None
    tick: int | None = None
    horizontal: float = 0.0  # m from the expert's grasp point in the table plane
    vertical: float = 0.0  # m above (+) or below (-) it
    speed: float = 0.0  # m/s of the grasp site before the close


def run(seed: int, controllers: ControllerChoices) -> Close | None:
    """One attempt on scene `seed`; None when the seed draws no scene."""
    ik = shared_ik()
    with held_out_scene(seed, controllers, "grasp") as scene:
        if scene is None:
            return None
        sim, target = scene.sim, scene.target
        planned = GraspExpert(sim, target).grasp_point()
        start = sim.object_position(target).astype(float)
        ticks: list[tuple[float, np.ndarray, np.ndarray]] = []  # (closure, site, object) per tick

        def on_tick(_: object, action: np.ndarray) -> None:
            site, _rotation = ik.site_pose(sim.state()[:ARM_DOF].astype(float))
            ticks.append((closure(action[ARM_DOF:]), site, sim.object_position(target).astype(float)))

        outcome = scene.attempt(controllers, on_tick)
        name = sim.objects[target].name
    first = next((i for i, (closed, _, _) in enumerate(ticks) if closed > CLOSED), None)
    if first is None:
        return Close(name, outcome.success, outcome.reason)
    _, site, position = ticks[first]
    offset = site - (planned + position - start)
    before = ticks[max(0, first - SPEED_TICKS)][1]
    speed = float(np.linalg.norm(site - before)) * 20.0 / max(1, min(first, SPEED_TICKS))
    horizontal = float(np.linalg.norm(offset[:2]))
    return Close(name, outcome.success, outcome.reason, first, horizontal, float(offset[2]), speed)


def _summary(label: str, closes: list[Close]) -> str:
    closed = [c for c in closes if c.tick is not None]
    if not closed:
        return f"{label}: {len(closes)} attempts, none closed the hand"
    ticks = np.array([c.tick for c in closed])
    vertical = np.array([c.vertical for c in closed]) * 100
    horizontal = np.array([c.horizontal for c in closed]) * 100
    speed = np.array([c.speed for c in closed]) * 100
    q1, q3 = np.percentile(ticks, [25, 75])
    return (
        f"{label}: {len(closes)} attempts; close tick median {np.median(ticks):.0f} (IQR {q1:.0f}-{q3:.0f}, "
        f"{ticks.min()}-{ticks.max()}); site above the expert's grasp point median "
        f"{np.median(vertical):+.1f} cm ({vertical.min():+.1f} to {vertical.max():+.1f}), "
        f"beside it {np.median(horizontal):.1f} cm, "
        f"moving {np.median(speed):.1f} cm/s"
    )


def main() -> None:
    args = attempt_options(__doc__ or "", episodes=40, seed=2026).parse_args()
    started = time.perf_counter()
    controllers = ControllerChoices(args.controller, ("grasp",))  # the checkpoint read once, here
    closes = each_attempt(args, lambda seed: run(seed, controllers))
    wins = [c for c in closes if c.success]
    misses = [c for c in closes if not c.success]
    print(f"{args.controller}: {len(wins)}/{len(closes)} grasped")
    print(_summary("grasped", wins))
    print(_summary("missed", misses))
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
