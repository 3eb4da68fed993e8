"""`dexagent run` end to end in sim: task success, time and cadence of the whole agent loop.

Runs each prompt on fresh seeded scenes with the scene planner and a named controller
(scripted by default), as fast as the machine allows (no real-time pacing), and prints
one line per episode and a summary per prompt: completed, objects grasped, attempts,
recoveries, sim seconds, wall seconds, achieved ticks/s and per-stage mean/worst ms.

    python benchmarks/bench_run.py                                   # 3 seeds x 4 prompts, 6 objects
    python benchmarks/bench_run.py --seeds 10 --objects 4 --image-size 96
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("MUJOCO_GL", "egl")

from dexagent.agent.sim_world import run_prompt_in_sim  # noqa: E402

PROMPTS = ("clear the table", "grasp all food", "grasp all toys", "grasp all red objects")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--objects", type=int, default=6)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--controller", default="scripted")
    parser.add_argument("--max-seconds", type=float, default=400.0)
    parser.add_argument("--prompt", action="append", help="prompts to run (default: four long-horizon ones)")
    args = parser.parse_args()
    prompts = tuple(args.prompt) if args.prompt else PROMPTS
    print(f"controller={args.controller} objects={args.objects} image={args.image_size}px seeds={args.seeds}")
    for prompt in prompts:
        done, hz, wall, sim = [], [], [], []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            result = run_prompt_in_sim(
                prompt,
                seed=seed,
                n_objects=args.objects,
                image_size=args.image_size,
                controller=args.controller,
                max_seconds=args.max_seconds,
            )
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
