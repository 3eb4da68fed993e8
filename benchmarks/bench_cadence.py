"""Closed-loop cadence of the learned controller in the MuJoCo sim at a wall-clock 20 Hz.

Each tick: observe (render head + wrist + segmentation), decide (controller.act: oracle
mask tracking + popping the queue; chunk inference runs on the controller's background
thread), act (robot.act through the safety layer), then sleep to the next 50 ms boundary.
Prints the cadence report every loop prints (controller/cadence.py): achieved Hz vs
target, slow and starved ticks, per-stage mean/p50/p95/worst latency (the controller's
own track and infer stages included).

    python benchmarks/bench_cadence.py                          # random-weight sim policy
    python benchmarks/bench_cadence.py --checkpoint DIR --ticks 200

A random-weight policy times exactly like a trained one (same network, same sampler).
"""

from __future__ import annotations

import argparse

import torch

from dexagent.agent.world import ControllerChoices, camera_sizes
from dexagent.controller.cadence import Pacer
from dexagent.controller.config import get_config
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.runtime import PolicyController
from dexagent.controller.trackers import OracleTracker
from dexagent.hardware import SafeRobot
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", default=None, help="a policy checkpoint folder (default: random sim)")
    parser.add_argument("--ticks", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--objects", type=int, default=6)
    parser.add_argument("--image-size", type=int, default=None, help="default: the checkpoint's, as `run`")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for inference")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    controllers = ControllerChoices(args.checkpoint or "scripted", ("grasp",))  # a checkpoint read once
    sizes = camera_sizes(controllers, args.image_size)
    scene = sample_scene(args.seed, "seen", args.objects)
    robot = SafeRobot(SimRobot(scene, image_size=sizes.head, wrist_size=sizes.wrist))
    if args.checkpoint:
        # In the background, as on the robot: the cadence is what this measures.
        controller = controllers["grasp"].build(robot, synchronous=False)
        source = args.checkpoint
    else:
        torch.manual_seed(args.seed)
        config = get_config("sim").for_joints(len(robot.spec.joint_names))
        policy = DexGraspPolicy(config, Normalizer.from_limits(robot.spec.lower, robot.spec.upper))
        controller = PolicyController(policy, OracleTracker(), spec=robot.spec)
        source = "sim config, random weights"

    observation = robot.observe()
    sim = robot.robot
    assert isinstance(sim, SimRobot)
    target = next(i for i in range(len(sim.objects)) if sim.object_box(i) is not None)
    box = sim.object_box(target)
    assert box is not None
    controller.reset(observation, box)

    pacer = Pacer(robot.spec.control_hz)
    cadence = pacer.cadence
    pacer.start()
    for _ in range(args.ticks):
        with cadence.stage("observe"):
            observation = robot.observe()
        with cadence.stage("decide"):
            action = controller.act(observation)
        with cadence.stage("act"):
            robot.act(action)
        pacer.tick_done()
        pacer.wait()
    controller.close()
    robot.close()
    cadence.add_controller(controller)

    print(f"closed-loop cadence: {source}, {sizes.shown()}, {args.objects} objects, {args.ticks} ticks")
    print(cadence.render())
    chunks = controller.stats["infer"].count
    print(f"a chunk every ~{args.ticks / max(1, chunks):.1f} ticks ({chunks} predicted)")


if __name__ == "__main__":
    main()
