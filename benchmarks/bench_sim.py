"""Speed of the MuJoCo sim: rendered control ticks, physics steps, scripted expert episodes.

Prints four figures on this machine (single process, one core's worth of work):

- control ticks/s with head + wrist rendered (and the head segmentation) at --image-size,
- two-camera RGB pairs/s (rendering only),
- physics-only steps/s (2 ms steps of arm + hand + the scene's objects) and ticks/s without rendering,
- scripted grasp expert episodes/minute without rendering, with its success count.

    MUJOCO_GL=egl python benchmarks/bench_sim.py
    MUJOCO_GL=egl python benchmarks/bench_sim.py --ticks 400 --episodes 20 --image-size 224
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco
import numpy as np

from dexagent.hardware.sim.expert import GraspExpert
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE
from dexagent.hardware.sim.scenes import sample_scene


def _wiggle(robot: SimRobot, tick: int) -> np.ndarray:
    """A small smooth arm motion around home, so physics and rendering see a moving arm."""
    action = robot.spec.home.copy()
    action[:7] += 0.2 * np.sin(0.1 * tick + np.arange(7))
    action[7:] = 0.5 + 0.5 * np.cos(0.05 * tick)
    return action


def bench_rendered_ticks(seed: int, ticks: int, image_size: int) -> tuple[float, float]:
    """(control ticks/s with both cameras and segmentation, RGB camera pairs/s)."""
    with SimRobot(sample_scene(seed), image_size=image_size) as robot:
        robot.observe()  # first render allocates GL buffers
        start = time.perf_counter()
        for tick in range(ticks):
            robot.act(_wiggle(robot, tick))
            robot.observe()
        tick_rate = ticks / (time.perf_counter() - start)
        renderer = robot._renderer  # the benchmark times the renderer alone, as SimRobot uses it
        start = time.perf_counter()
        for _ in range(ticks):
            renderer.rgb(robot.data, "head")
            renderer.rgb(robot.data, "wrist")
        pair_rate = ticks / (time.perf_counter() - start)
    return tick_rate, pair_rate


def bench_physics(seed: int, ticks: int) -> tuple[float, float]:
    """(physics steps/s, control ticks/s) without any rendering."""
    with SimRobot(sample_scene(seed), cameras=()) as robot:
        start = time.perf_counter()
        for tick in range(ticks):
            robot.act(_wiggle(robot, tick))
        tick_rate = ticks / (time.perf_counter() - start)
        steps = ticks * 25
        start = time.perf_counter()
        mujoco.mj_step(robot.model, robot.data, nstep=steps)
        step_rate = steps / (time.perf_counter() - start)
    return step_rate, tick_rate


def bench_expert(seed: int, episodes: int) -> tuple[float, int, int]:
    """(episodes/minute, successes, episodes) of the grasp expert without rendering."""
    successes = 0
    start = time.perf_counter()
    for episode in range(episodes):
        scene = sample_scene(seed + episode)
        targets = [i for i, placed in enumerate(scene.objects) if not placed.spec.flat]
        target = targets[episode % len(targets)]
        with SimRobot(scene, cameras=()) as robot:
            expert = GraspExpert(robot, target)
            while not expert.done:
                robot.act(expert.act(robot.observe()))
            successes += robot.grasp_success(target)
    return episodes / (time.perf_counter() - start) * 60, successes, episodes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ticks", type=int, default=200, help="control ticks per timing loop")
    parser.add_argument("--episodes", type=int, default=10, help="scripted expert episodes")
    parser.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    backend = os.environ["MUJOCO_GL"]
    print(f"sim benchmark: scene seed {args.seed} (6 objects, seen split), MUJOCO_GL={backend}")
    tick_rate, pair_rate = bench_rendered_ticks(args.seed, args.ticks, args.image_size)
    print(f"control ticks/s, head+wrist+segmentation at {args.image_size} px: {tick_rate:8.1f}")
    print(f"two-camera RGB pairs/s at {args.image_size} px (render only):   {pair_rate:8.1f}")
    step_rate, physics_ticks = bench_physics(args.seed, args.ticks)
    print(f"physics-only steps/s (2 ms steps):                     {step_rate:8.0f}")
    print(f"control ticks/s without rendering (25 steps each):     {physics_ticks:8.1f}")
    per_minute, successes, episodes = bench_expert(args.seed, args.episodes)
    ok = f"({successes}/{episodes} ok)"
    print(f"scripted grasp episodes/minute (no rendering):         {per_minute:8.1f}  {ok}")


if __name__ == "__main__":
    main()
