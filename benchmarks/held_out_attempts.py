"""What the attempt benchmarks share: their options, and one learned attempt on a held-out scene.

`bench_close_offsets.py`, `bench_expert_takeover.py` and `bench_push_trace.py` each let a
controller make one attempt per held-out seen-split scene of the eval seed stream (one object
for grasp, a flat target among six for push-then-grasp) and measure something about it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

os.environ.setdefault("MUJOCO_GL", "egl")

import torch

from dexagent.agent.evaluation.runner import EVAL_STREAM
from dexagent.agent.world import ControllerChoices, RunControllers, camera_sizes
from dexagent.controller.data.collect import scene_seed
from dexagent.controller.data.rollout import AttemptOutcome, TickCallback, choose_target, run_attempt
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import SafeRobot
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import SceneError, sample_scene


def attempt_options(doc: str, *, episodes: int, seed: int, verbose: bool = True) -> argparse.ArgumentParser:
    """--episodes, --seed, --controller, --threads (and --verbose) with these defaults."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=episodes)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--controller", default="default", help="a checkpoint folder, default or scripted")
    parser.add_argument("--threads", type=int, default=1)
    if verbose:
        parser.add_argument("--verbose", action="store_true", help="one line per attempt")
    return parser


def scene_seeds(args: argparse.Namespace) -> Iterator[int]:
    """The held-out scene seeds of `args.episodes` attempts from `args.seed` (the eval stream);
    sets torch's threads to `args.threads` first."""
    torch.set_num_threads(args.threads)
    for index in range(args.episodes):
        yield scene_seed(args.seed, index, EVAL_STREAM)


Result = TypeVar("Result")


def each_attempt(args: argparse.Namespace, run: Callable[[int], Result | None]) -> list[Result]:
    """`run(seed)` over the held-out seeds, skipping those with no scene (None); --verbose prints each."""
    results = []
    for seed in scene_seeds(args):
        result = run(seed)
        if result is None:
            continue
        results.append(result)
        if getattr(args, "verbose", False):
            print(result)
    return results


@dataclass
class HeldOutScene:
    """A homed sim of one held-out scene, its safety-wrapped robot and the attempt's target."""

    sim: SimRobot
    robot: SafeRobot
    target: int
    seed: int
    skill: str

    def attempt(self, controllers: ControllerChoices, on_tick: TickCallback | None = None) -> AttemptOutcome:
        """One attempt of the skill's controller, for the skill's attempt time."""
        policy = RunControllers(controllers, self.sim, seed=self.seed)(self.skill)
        try:
            seconds = CONTROLLED_SKILLS.get(self.skill).attempt_seconds
            return run_attempt(self.sim, self.robot, policy, self.target, seconds=seconds, on_tick=on_tick)
        finally:
            policy.close()


@contextmanager
def held_out_scene(seed: int, controllers: ControllerChoices, skill: str) -> Iterator[HeldOutScene | None]:
    """Scene `seed` rendered at the controllers' camera sizes, homed, target chosen as `dexagent eval`
    does; None when the seed draws no scene."""
    pushing = CONTROLLED_SKILLS.get(skill).flat_target
    try:
        scene = sample_scene(seed, "seen", 6 if pushing else 1, flat_target=pushing)
    except SceneError:
        yield None
        return
    sizes = camera_sizes(controllers)
    with SimRobot(scene, image_size=sizes.head, wrist_size=sizes.wrist) as sim:
        robot = SafeRobot(sim)
        robot.home()
        visible = [sim.object_box(o.index) is not None for o in sim.objects]
        yield HeldOutScene(sim, robot, choose_target(sim.objects, visible, skill, seed), seed, skill)
