"""`dexagent run` end to end in sim: task success, time and cadence of the whole agent loop.

Runs each prompt on fresh seeded scenes with the scene planner and a named controller
(scripted by default), as fast as the machine allows (no real-time pacing), and prints
one line per episode and a summary per prompt: completed, objects grasped, attempts,
recoveries, sim seconds, wall seconds, achieved ticks/s and per-stage mean/worst ms.

    python benchmarks/bench_run.py                                   # 3 seeds x 4 prompts, 6 objects
    python benchmarks/bench_run.py --seeds 10 --objects 4 --image-size 224
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("MUJOCO_GL", "egl")

from dexagent.agent.runner import RunConfig, RunResult  # noqa: E402
from dexagent.agent.world import ControllerChoices, build_sim_world, camera_sizes  # noqa: E402
from dexagent.hardware.sim.config import SimRobotConfig  # noqa: E402

PROMPTS = ("clear the table", "grasp all food", "grasp all toys", "grasp all red objects")


def run_prompt(
    prompt: str,
    seed: int,
    objects: int,
    controllers: ControllerChoices,
    image_size: int | None,
    max_seconds: float,
) -> RunResult:
    """One run of `prompt` in a fresh seeded scene with the scene planner, as fast as the machine allows."""
    size = {} if image_size is None else {"image_size": image_size}  # none: the controller's
    robot = SimRobotConfig(seed=seed, objects=objects, **size)
    with build_sim_world(robot, controllers) as world:
        config = RunConfig(prompt=prompt, max_seconds=max_seconds, realtime=False)
        return world.agent_run(config).run()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--objects", type=int, default=6)
    parser.add_argument("--image-size", type=int, default=None, help="default: the controller's, as `run`")
    parser.add_argument("--controller", default="scripted")
    parser.add_argument("--max-seconds", type=float, default=400.0)
    parser.add_argument("--prompt", action="append", help="prompts to run (default: four long-horizon ones)")
    args = parser.parse_args()
    prompts = tuple(args.prompt) if args.prompt else PROMPTS
    controllers = ControllerChoices(args.controller, ("grasp",))  # each checkpoint read once, here
    sizes = camera_sizes(controllers, args.image_size)  # what `dexagent run` renders this controller at
    print(f"controller={args.controller} objects={args.objects} images {sizes.shown()} seeds={args.seeds}")
    for prompt in prompts:
        done, hz, wall, sim = [], [], [], []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            result = run_prompt(prompt, seed, args.objects, controllers, args.image_size, args.max_seconds)
            stages = result.cadence["stages_ms"]
            stage_text = " ".join(f"{k}={v['mean']:.1f}/{v['worst']:.0f}" for k, v in stages.items())
            print(
                f"  {prompt!r} seed={seed}: completed={result.completed} grasped={len(result.grasped)} "
                f"attempts={result.attempts} recoveries={result.recoveries} sim={result.sim_seconds:.1f}s "
                f"wall={result.wall_seconds:.1f}s ticks/s={result.cadence['achieved_hz']} ms(mean/worst): "
                f"{stage_text}" + ("" if result.completed else f"  reason: {result.reason}")
            )
            done.append(result.completed)
            hz.append(float(result.cadence["achieved_hz"]))
            wall.append(result.wall_seconds)
            sim.append(result.sim_seconds)
        print(
            f"{prompt!r}: {sum(done)}/{len(done)} completed, mean sim {statistics.mean(sim):.1f} s, "
            f"mean wall {statistics.mean(wall):.1f} s, mean {statistics.mean(hz):.1f} ticks/s"
        )


if __name__ == "__main__":
    main()
