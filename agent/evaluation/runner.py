"""Closed-loop evaluation episodes in sim, one process or many, with identical results either way.

Every episode is a pure function of its `EpisodeTask` (suite, split, scene seed,
controller, attempts): the scene, the target and the random streams all derive
from the task, so `--workers` changes only how fast the records arrive.
"""

from __future__ import annotations

import functools
import multiprocessing
import random
import signal
import sys
import time
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from dexagent.agent.evaluation.suites import Suite, SuiteError
from dexagent.controller.cadence import Cadence, merge_cadences
from dexagent.controller.precision import PrecisionChoice
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import SafeRobot
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE, CameraSizes
from dexagent.hardware.sim.scenes import SceneError, sample_scene

# The simulator (MuJoCo) and the rollout load when episodes are planned or run, not on import:
# `dexagent eval --help` lists the suites without them.
if TYPE_CHECKING:
    from dexagent.agent.world import ControllerChoices
    from dexagent.controller.data.rollout import TickCallback
    from dexagent.hardware.sim.robot import SimRobot

EVAL_STREAM = 2  # seed stream of `eval`; `collect` uses 1, so training scenes are held out
_SCENE_REDRAWS = 20  # a scene that does not fit, or lacks a visible target, is redrawn (rare)


@dataclass(frozen=True)
class EvalConfig:
    suite: Suite
    controller: str = "scripted"
    episodes: int = 20
    seed: int = 0
    attempts: int = 1
    image_size: int | None = None  # None: the controller's training size (agent/world.camera_sizes)
    realtime: bool = False  # wall-clock 20 Hz ticks, learned controllers infer in the background
    precision: PrecisionChoice = "auto"  # a learned controller's chunk precision (controller/precision.py)
    wrist_size: int | None = None  # the wrist camera's alone; None: image_size, else the training size

    def __post_init__(self) -> None:
        if self.episodes <= 0:
            raise SuiteError(f"episodes must be positive, got {self.episodes}")
        if self.attempts <= 0:
            raise SuiteError(f"attempts must be positive, got {self.attempts}")
        if self.seed < 0:
            raise SuiteError(f"seed must be non-negative, got {self.seed}")
        for what, size in (("image size", self.image_size), ("wrist size", self.wrist_size)):
            if size is not None and not 16 <= size <= 1024:
                raise SuiteError(f"{what} must be in 16..1024 pixels, got {size}")
        if self.realtime and self.suite.run_episode is not None:
            raise SuiteError(
                f"--realtime runs grasp episodes; suite {self.suite.name!r} has its own protocol"
            )

    @property
    def camera_sizes(self) -> CameraSizes:
        """The head and wrist sizes the episodes render at, once resolved (`dexagent eval` resolves
        them: a None here is the default size)."""
        head = DEFAULT_IMAGE_SIZE if self.image_size is None else self.image_size
        return CameraSizes(head, head if self.wrist_size is None else self.wrist_size)


@dataclass(frozen=True)
class EpisodeTask:
    """Everything that determines one evaluation episode."""

    index: int
    split: str
    scene_seed: int
    suite: Suite
    controller: str
    attempts: int
    image_size: int | None  # None: the controller's training size
    realtime: bool = False
    precision: PrecisionChoice = "auto"
    wrist_size: int | None = None  # None: image_size where given, else the controller's training size


@dataclass(frozen=True)
class EpisodeRecord:
    """The outcome of one episode, as written to the JSON report."""

    index: int
    scene_seed: int  # `dexagent sim show --seed SCENE_SEED --split SPLIT` shows the scene
    split: str
    target_name: str
    target_tags: tuple[str, ...]
    success: bool
    success_attempt: int | None  # 1-based attempt that succeeded
    attempts_used: int
    steps: int  # control ticks over all attempts
    wall_seconds: float
    failure_reason: str | None  # of the last attempt: timeout, dropped, unsafe action, ...
    extra: dict[str, float | str] = field(default_factory=dict)  # suite-specific figures
    table: str = ""  # the scene's table texture ("white" on the seen split) and lighting, for grouping
    lighting: str = ""
    # How the wall-clock 20 Hz ticks kept time (--realtime only; in the tick, time is not a result).
    cadence: Cadence | None = field(default=None, compare=False)

    def outcome(self) -> tuple[object, ...]:
        """Everything but the wall time: what `--workers` and repeated runs must reproduce."""
        return (
            self.index,
            self.scene_seed,
            self.split,
            self.target_name,
            self.target_tags,
            self.success,
            self.success_attempt,
            self.attempts_used,
            self.steps,
            self.failure_reason,
            tuple(sorted(self.extra.items())),
            self.table,
            self.lighting,
        )


def plan_tasks(config: EvalConfig) -> list[EpisodeTask]:
    """The episodes of an evaluation, in order."""
    from dexagent.controller.data.collect import scene_seed

    return [
        EpisodeTask(
            index=index,
            split=split,
            scene_seed=scene_seed(config.seed, index, EVAL_STREAM),
            suite=config.suite,
            controller=config.controller,
            attempts=config.attempts,
            image_size=config.image_size,
            realtime=config.realtime,
            precision=config.precision,
            wrist_size=config.wrist_size,
        )
        for index, split in enumerate(config.suite.split_plan(config.episodes))
    ]


def run_episode(task: EpisodeTask) -> EpisodeRecord:
    """Run one episode with the suite's protocol (the standard grasp episode by default)."""
    runner = task.suite.run_episode or run_grasp_episode
    record: EpisodeRecord = runner(task)
    return record


@functools.lru_cache(maxsize=8)
def episode_controllers(controller: str, skill: str) -> ControllerChoices:
    """`controller` for `skill` (and the skills a tree asks for later), each checkpoint read and
    verified once per process: every episode builds its own controller, seeded by its scene, from
    what was read. An evaluation thus scores one set of weights, even if the folder is rewritten."""
    from dexagent.agent.world import ControllerChoices

    return ControllerChoices(controller, (skill,))


def run_grasp_episode(task: EpisodeTask, on_tick: TickCallback | None = None) -> EpisodeRecord:
    """Sample the scene, pick the target, then up to `attempts` attempts, re-homing between them."""
    from dexagent.agent.world import RunControllers, camera_sizes
    from dexagent.controller.data.rollout import NOT_VISIBLE, run_attempt

    started = time.perf_counter()
    suite = task.suite
    choices = episode_controllers(task.controller, suite.skill)
    sim, target, seed = _scene_with_target(task, camera_sizes(choices, task.image_size, task.wrist_size))
    _seed_random_streams(seed)
    with sim:
        robot = SafeRobot(sim)
        synchronous = False if task.realtime else None  # None: the sim's default, in the tick
        controllers = RunControllers(
            choices, sim, seed=seed, synchronous=synchronous, precision=task.precision
        )
        controller = controllers(suite.skill)  # built once; `run_attempt` resets it every attempt
        steps, reason, success_attempt, attempt = 0, NOT_VISIBLE, None, 0
        cadences: list[Cadence] = []
        try:
            for attempt in range(1, task.attempts + 1):
                robot.home()
                outcome = run_attempt(
                    sim,
                    robot,
                    controller,
                    target,
                    seconds=CONTROLLED_SKILLS.get(suite.skill).attempt_seconds,
                    on_tick=on_tick,
                    realtime=task.realtime,
                )
                steps += outcome.steps
                if outcome.cadence is not None:
                    cadences.append(outcome.cadence)
                if outcome.success:
                    success_attempt = attempt
                    break
                reason = outcome.reason or reason
        finally:
            controller.close()
        cadence = None
        if task.realtime and cadences:
            cadence = merge_cadences(cadences)
            cadence.add_controller(controller)  # its inference and tracking over all attempts, once
        target_object = sim.objects[target]
    return EpisodeRecord(
        index=task.index,
        scene_seed=seed,
        split=task.split,
        target_name=target_object.name,
        target_tags=tuple(sorted(target_object.tags)),
        success=success_attempt is not None,
        success_attempt=success_attempt,
        attempts_used=attempt,
        steps=steps,
        wall_seconds=round(time.perf_counter() - started, 3),
        failure_reason=None if success_attempt is not None else reason,
        cadence=cadence,
        table=sim.scene.background.name,
        lighting=sim.scene.lighting.name,
    )


def _scene_with_target(task: EpisodeTask, sizes: CameraSizes) -> tuple[SimRobot, int, int]:
    """The episode's sim, its target's index and the scene seed: the task's scene, or the next one
    drawn from it where its objects did not fit or no target was visible (SuiteError after
    _SCENE_REDRAWS draws)."""
    from dexagent.controller.data.collect import scene_seed
    from dexagent.controller.data.rollout import choose_target
    from dexagent.hardware.sim.robot import SimRobot

    suite, seed = task.suite, task.scene_seed
    for _ in range(_SCENE_REDRAWS):
        try:
            scene = sample_scene(seed, task.split, suite.n_objects, flat_target=suite.flat_target)
        except SceneError:  # the objects did not fit on the table: draw the next scene
            seed = scene_seed(seed, 0, EVAL_STREAM)
            continue
        sim = SimRobot(scene, image_size=sizes.head, wrist_size=sizes.wrist)
        visible = [sim.object_box(o.index) is not None for o in sim.objects]
        target = choose_target(sim.objects, visible, suite.skill, seed)
        if target >= 0:
            return sim, target, seed
        sim.close()
        seed = scene_seed(seed, 0, EVAL_STREAM)
    raise SuiteError(f"episode {task.index}: no scene with a visible target in {_SCENE_REDRAWS} draws")


def _seed_random_streams(seed: int) -> None:
    # Learned controllers sample noise (diffusion); seeding per episode makes them repeatable.
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def _limit_threads(threads: int) -> None:
    # One torch thread per episode process: a sim chunk infers in ~70 ms on one thread, well
    # inside the 400 ms its 8 actions last, while two threads per process on shared cores
    # thrash (measured 7.5 s vs 155 s wall per episode beside two training runs).
    import torch

    torch.set_num_threads(threads)


def _init_worker(threads: int) -> None:
    # Ctrl-C reaches the whole process group; only the main process decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_threads(threads)


def iter_records(
    tasks: list[EpisodeTask], workers: int = 1, threads: int = 1
) -> Generator[EpisodeRecord, None, None]:
    """Records of `tasks` in task order, computed in `workers` processes (1: in this process)."""
    if workers < 1:
        raise SuiteError(f"workers must be at least 1, got {workers}")
    if threads < 1:
        raise SuiteError(f"threads must be at least 1, got {threads}")
    if workers == 1 or len(tasks) == 1:
        _limit_threads(threads)
        for task in tasks:
            yield run_episode(task)
        return
    # spawn, not fork: a forked MuJoCo/EGL context is not safe to use in the child.
    pool = multiprocessing.get_context("spawn").Pool(
        min(workers, len(tasks)), initializer=_init_worker, initargs=(threads,)
    )
    try:
        yield from pool.imap(run_episode, tasks)
    finally:
        pool.terminate()
        pool.join()


def run_suite(
    config: EvalConfig,
    workers: int = 1,
    on_record: Callable[[EpisodeRecord], None] | None = None,
    threads: int = 1,
) -> list[EpisodeRecord]:
    """All records of an evaluation, in episode order."""
    records = []
    # closing(): an interrupt must stop the worker processes at once, not when garbage collected.
    with closing(iter_records(plan_tasks(config), workers, threads)) as stream:
        for record in stream:
            records.append(record)
            if on_record is not None:
                on_record(record)
    return records
