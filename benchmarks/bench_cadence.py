"""Closed-loop cadence of the learned controller in the MuJoCo sim at a wall-clock 20 Hz.

Each tick: observe (render head + wrist + segmentation), controller.act (oracle mask
tracking + popping the queue; chunk inference runs on the controller's background
thread), robot.act through the safety layer, then sleep to the next 50 ms boundary.
Prints achieved Hz vs target, starved ticks, late ticks and per-stage mean/worst latency.

    python benchmarks/bench_cadence.py                          # random-weight sim policy
    python benchmarks/bench_cadence.py --checkpoint DIR --ticks 200

A random-weight policy times exactly like a trained one (same network, same sampler).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch

from dexagent.controller.config import get_config
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.runtime import PolicyController
from dexagent.controller.trackers import OracleTracker
from dexagent.hardware import SafeRobot
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene

T = TypeVar("T")


def _timed(fn: Callable[[], T], into: list[float]) -> T:
    start = time.perf_counter()
    result = fn()
    into.append(time.perf_counter() - start)
    return result


def _line(name: str, seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return f"  {name:<18} mean {ms.mean():7.1f} ms   worst {ms.max():7.1f} ms   (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", default=None, help="a policy checkpoint folder (default: random sim)")
    parser.add_argument("--ticks", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--objects", type=int, default=6)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for inference")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    robot = SafeRobot(SimRobot(sample_scene(args.seed, "seen", args.objects), image_size=args.image_size))
    if args.checkpoint:
        controller = PolicyController.from_checkpoint(args.checkpoint, OracleTracker(), spec=robot.spec)
        source = args.checkpoint
    else:
        torch.manual_seed(args.seed)
        policy = DexGraspPolicy(get_config("sim"), Normalizer.from_limits(robot.spec.lower, robot.spec.upper))
        controller = PolicyController(policy, OracleTracker(), spec=robot.spec)
        source = "sim config, random weights"

    observation = robot.observe()
    sim = robot.robot
    assert isinstance(sim, SimRobot)
    target = next(i for i in range(len(sim.objects)) if sim.object_box(i) is not None)
    box = sim.object_box(target)
    assert box is not None
    controller.reset(observation, box)

    stages: dict[str, list[float]] = {"observe": [], "controller.act": [], "robot.act": [], "tick work": []}
    period = 1.0 / robot.spec.control_hz
    late = 0
    start = next_tick = time.perf_counter()
    for _ in range(args.ticks):
        tick_start = time.perf_counter()
        observation = _timed(robot.observe, stages["observe"])
        action = _timed(lambda obs=observation: controller.act(obs), stages["controller.act"])
        _timed(lambda a=action: robot.act(a), stages["robot.act"])
        stages["tick work"].append(time.perf_counter() - tick_start)
        next_tick += period
        slack = next_tick - time.perf_counter()
        if slack > 0:
            time.sleep(slack)
        else:
            late += 1
            next_tick = time.perf_counter()  # do not try to catch up with a burst of ticks
    elapsed = time.perf_counter() - start
    controller.close()
    robot.close()

    print(f"closed-loop cadence: {source}, {args.image_size} px, {args.objects} objects, {args.ticks} ticks")
    print(f"  achieved           {args.ticks / elapsed:7.2f} Hz (target {robot.spec.control_hz:.0f} Hz)")
    print(f"  starved ticks      {controller.starved_ticks:7d}   (waited for a chunk)")
    print(f"  late ticks         {late:7d}   (tick work exceeded {period * 1000:.0f} ms)")
    chunks = controller.stats["infer"].count
    print(f"  chunks predicted   {chunks:7d}   every ~{args.ticks / max(1, chunks):.1f} ticks")
    for name in ("observe", "controller.act", "robot.act", "tick work"):
        print(_line(name, stages[name]))
    for name in ("track", "infer"):
        stat = controller.stats[name]
        print(
            f"  {name + ' (ctrl)':<18} mean {stat.mean_s * 1000:7.1f} ms   "
            f"worst {stat.worst_s * 1000:7.1f} ms   (n={stat.count})"
        )
    print(f"  median tick work   {statistics.median(stages['tick work']) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
