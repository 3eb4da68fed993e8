"""Scripted demonstrations in sim: one attempt per derived scene seed, kept only when the grasp succeeds.

`record_demo(job, index)` is a pure function of the job and the attempt index, so
attempts can run in any process, and `iter_demos` hands them back in index order:
the demos a run keeps do not depend on how many workers produced them.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Container, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dexagent.controller.data.on_policy import OnPolicyController, hand_reopens
from dexagent.controller.data.perturb import PerturbedExpert, push_height_problem
from dexagent.controller.data.rollout import NOT_VISIBLE, choose_target, instruction_for, run_attempt
from dexagent.controller.data.store import LABEL_HORIZON, EpisodeFrames, EpisodeMetadata
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import Observation, SafeRobot
from dexagent.hardware.sim.robot import SceneObject, SimRobot
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE, SPLITS
from dexagent.hardware.sim.scenes import SceneError, sample_scene
from dexagent.hardware.types import Box

if TYPE_CHECKING:
    from dexagent.controller.factory import ControllerChoice
    from dexagent.controller.scripted import ScriptedController

NO_SCENE = "scene did not fit"
COLLECT_STREAM = 1  # seed stream of `collect`; `eval` uses another, so its scenes are held out
TEMPO_STREAM = 0x7E3F0  # with the scene seed: each demo's expert timing


class CollectError(ValueError):
    """A collection was asked for with arguments that cannot work."""


@dataclass(frozen=True)
class CollectJob:
    """Everything that determines which demonstrations a collection produces."""

    skill: str = "grasp"
    split: str = "seen"
    image_size: int = DEFAULT_IMAGE_SIZE  # the head camera's (and the wrist's, unless wrist_size)
    n_objects: int = 6
    seed: int = 0
    # DART noise: std (rad) of the offset on the executed arm joints in free-space phases; the
    # demo records the expert's clean action (controller/data/perturb.py). 0 records as executed.
    noise: float = 0.0
    # Push demos only: the executed push starts up to this high (m) and sinks to the push's line
    # before the fingers touch the object; the demo records the expert's path (perturb.py).
    push_height: float = 0.0
    # On-policy (controller/data/on_policy.py): this checkpoint drives, the expert labels, every
    # episode is kept; the expert drives a segment with probability `beta`. None: scripted demos.
    policy: str | None = None
    beta: float = 1.0
    round: int = 0  # written into each episode's metadata: which round of data it belongs to
    # The wrist camera's own size (None: image_size): each camera at the size its encoder reads,
    # e.g. a 224 px head for a frozen DINOv2 beside a 96 px wrist for a trainable CNN.
    wrist_size: int | None = None
    # The expert's timing varies per demo (hardware/sim/expert.py `Tempo.draw`): approach and descent
    # (push: and the push) up to 1 + tempo times slower, a pause of up to tempo s before the descent;
    # 0: one rhythm.
    tempo: float = 0.0

    def __post_init__(self) -> None:
        if self.skill not in CONTROLLED_SKILLS:
            valid = ", ".join(CONTROLLED_SKILLS.names())
            raise CollectError(f"unknown skill {self.skill!r}; valid skills: {valid}")
        if self.split not in SPLITS:
            raise CollectError(f"unknown split {self.split!r}; valid splits: {', '.join(SPLITS)}")
        if not 16 <= self.image_size <= 1024:
            raise CollectError(f"image size must be in 16..1024 pixels, got {self.image_size}")
        if self.wrist_size is not None and not 16 <= self.wrist_size <= 1024:
            raise CollectError(f"wrist size must be in 16..1024 pixels, got {self.wrist_size}")
        if not 1 <= self.n_objects <= 8:
            raise CollectError(f"objects must be in 1..8, got {self.n_objects}")
        if self.seed < 0:
            raise CollectError(f"seed must be non-negative, got {self.seed}")
        if not 0.0 <= self.noise <= 0.2:
            raise CollectError(f"noise must be in 0..0.2 rad, got {self.noise}")
        if not 0.0 <= self.beta <= 1.0:
            raise CollectError(f"beta must be in 0..1, got {self.beta}")
        if self.policy is None and self.beta != 1.0:
            raise CollectError("beta < 1 needs a policy to drive (--on-policy CHECKPOINT)")
        if self.policy is not None and (self.noise > 0 or self.push_height > 0):
            raise CollectError(
                "DART noise and the push height perturb the expert; "
                "on-policy collection lets the policy drive"
            )
        problem = push_height_problem(self.push_height, self.skill)
        if problem:
            raise CollectError(problem)
        if self.round < 0:
            raise CollectError(f"round must be non-negative, got {self.round}")
        if not 0.0 <= self.tempo <= 2.0:
            raise CollectError(f"tempo must be in 0..2, got {self.tempo}")


@dataclass(frozen=True)
class Demo:
    """The result of one attempt: frames and metadata when it is kept, the failure reason otherwise.

    Scripted demos are kept when they succeed; on-policy episodes always (their labels are the
    expert's), with `success` and `reason` saying how the rollout went.
    """

    index: int
    scene_seed: int
    success: bool
    reason: str | None
    steps: int
    wall_seconds: float
    frames: EpisodeFrames | None = None
    metadata: EpisodeMetadata | None = None
    label_reopens: int = 0  # on-policy: times the labels open the hand again after it closed
    expert_ticks: int = 0  # on-policy: ticks the expert drove


def scene_seed(base_seed: int, index: int, stream: int) -> int:
    """A scene seed for attempt `index`, well mixed so nearby base seeds do not share scenes."""
    return int(np.random.SeedSequence([base_seed, index, stream]).generate_state(1)[0] & 0x7FFFFFFF)


def record_demo(job: CollectJob, index: int) -> Demo:
    """Run attempt `index`'s scene and record every tick: the scripted expert's demo if it succeeds,
    or, with `job.policy`, the policy's rollout labelled by the expert."""
    from dexagent.controller.scripted import ScriptedController

    started = time.perf_counter()
    seed = scene_seed(job.seed, index, COLLECT_STREAM)
    spec = CONTROLLED_SKILLS.get(job.skill)
    try:
        scene = sample_scene(seed, job.split, job.n_objects, flat_target=spec.flat_target)
    except SceneError:  # this seed's objects do not fit on the table; the next attempt draws anew
        return Demo(index, seed, False, NO_SCENE, 0, time.perf_counter() - started)
    with SimRobot(scene, image_size=job.image_size, wrist_size=job.wrist_size) as sim:
        robot = SafeRobot(sim)
        robot.home()
        visible = [sim.object_box(o.index) is not None for o in sim.objects]
        target = choose_target(sim.objects, visible, job.skill, seed)
        if target < 0:
            return Demo(index, seed, False, NOT_VISIBLE, 0, time.perf_counter() - started)
        box = sim.object_box(target)
        assert box is not None  # chosen among visible objects
        ticks: list[tuple[Observation, np.ndarray]] = []
        tables: list[tuple[np.ndarray, np.ndarray]] = []  # (head, wrist) table masks per observation
        label_chunks: list[np.ndarray] = []  # on-policy: the expert's chunk from each tick's state
        controller = _attempt_controller(job, sim, seed)

        def record(observation: Observation, executed: np.ndarray) -> None:
            label = None if isinstance(controller, ScriptedController) else controller.label
            ticks.append((observation, executed if label is None else label))
            if isinstance(controller, OnPolicyController) and controller.label_chunk is not None:
                label_chunks.append(controller.label_chunk)

        def observed(observation: Observation) -> None:
            tables.append((sim.table_mask("head"), sim.table_mask("wrist")))

        try:
            outcome = run_attempt(
                sim,
                robot,
                controller,
                target,
                seconds=spec.attempt_seconds,
                on_tick=record,
                on_observe=observed,
            )
        finally:
            controller.close()
        wall = time.perf_counter() - started
        on_policy = isinstance(controller, OnPolicyController)
        if not outcome.success and not (on_policy and ticks):
            return Demo(index, seed, False, outcome.reason, outcome.steps, wall)
        frames = _frames(ticks, tables, target, label_chunks)
        placed_type = scene.objects[target].spec.object_type
        metadata = _metadata(job, seed, sim.objects[target], placed_type, box, frames.steps, outcome.reason)
        reopens, expert_ticks = 0, frames.steps
        if isinstance(controller, OnPolicyController):
            reopens, expert_ticks = hand_reopens(frames.action), controller.expert_ticks
        return Demo(
            index,
            seed,
            outcome.success,
            outcome.reason,
            outcome.steps,
            wall,
            frames,
            metadata,
            reopens,
            expert_ticks,
        )


def _metadata(
    job: CollectJob,
    seed: int,
    target: SceneObject,
    object_type: str,
    box: Box,
    steps: int,
    reason: str | None,
) -> EpisodeMetadata:
    """What the store keeps beside one episode's frames: its scene, target, instruction and outcome."""
    return EpisodeMetadata(
        seed=seed,
        split=job.split,
        skill=job.skill,
        target_name=target.name,
        target_category=target.category,
        target_colour=target.colour,
        target_tags=tuple(sorted(target.tags)),
        instruction=instruction_for(target, object_type),
        target_box=box.as_tuple(),
        steps=steps,
        round=job.round,
        policy="scripted" if job.policy is None else policy_identity(job.policy, job.skill),
        beta=job.beta,
        outcome=reason or "",
    )


def _attempt_controller(
    job: CollectJob, sim: SimRobot, seed: int
) -> ScriptedController | PerturbedExpert | OnPolicyController:
    """What acts in one attempt: the scripted expert, perturbed by DART noise when `job.noise`, or
    `job.policy` driving with the expert labelling (and driving with probability `job.beta`)."""
    from dexagent.controller.scripted import ScriptedController
    from dexagent.hardware.sim.expert import Tempo

    tempo = Tempo.draw(np.random.default_rng([seed, TEMPO_STREAM]), job.tempo) if job.tempo > 0 else None
    expert = ScriptedController(sim, job.skill, tempo=tempo)
    if job.noise > 0 or job.push_height > 0:
        return PerturbedExpert(expert, job.noise, seed, push_height=job.push_height)
    if job.policy is not None:
        import torch

        torch.set_num_threads(1)  # one inference thread per worker: --workers scales out, threads thrash
        student = policy_choice(job.policy, job.skill).build(sim, seed=seed)
        return OnPolicyController(student, expert, job.beta, seed, horizon=LABEL_HORIZON)
    return expert


@functools.cache
def policy_choice(name: str, skill: str) -> ControllerChoice:
    """The on-policy checkpoint, read and verified once per process (each demo builds from it;
    ControllerNotFoundError for one that cannot run)."""
    # Imported here: the factory imports every controller, which worker start-up should not pay twice.
    from dexagent.controller.factory import resolve_controller

    return resolve_controller(name, skill)


@functools.cache
def policy_identity(name: str, skill: str) -> str:
    """`FOLDER@sha256:PREFIX` of a checkpoint's weights: which weights drove, even after `default` moves."""
    from dexagent.controller.factory import default_checkpoint

    folder = default_checkpoint(skill) if name == "default" else Path(name).expanduser()
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    return f"{folder}@sha256:{digest[:12]}"


def _frames(
    ticks: list[tuple[Observation, np.ndarray]],
    tables: list[tuple[np.ndarray, np.ndarray]],
    target: int,
    label_chunks: list[np.ndarray] | None = None,
) -> EpisodeFrames:
    """Stack recorded (observation, action label) ticks and their table masks into the store's arrays.

    `tables` holds one entry per observation, in order; the last observation has no tick.
    `label_chunks`: one per tick where the chunk to learn is not the episode's next actions.
    """
    if label_chunks and len(label_chunks) != len(ticks):
        raise CollectError(f"{len(label_chunks)} label chunks for {len(ticks)} ticks")
    assert len(tables) >= len(ticks), "every recorded tick was observed first"
    tables = tables[: len(ticks)]
    masks = []
    for observation, _ in ticks:
        assert observation.head_segmentation is not None  # the sim renders it with the head camera
        masks.append(observation.head_segmentation == target)
    return EpisodeFrames(
        action=np.stack([action for _, action in ticks]).astype(np.float32),
        state=np.stack([o.state for o, _ in ticks]).astype(np.float32),
        head_rgb=np.stack([o.head_rgb for o, _ in ticks]),
        head_mask=np.stack(masks),
        wrist_rgb=np.stack([o.wrist_rgb for o, _ in ticks]),
        head_table=np.stack([head for head, _ in tables]),
        wrist_table=np.stack([wrist for _, wrist in tables]),
        label_chunk=np.stack(label_chunks).astype(np.float32) if label_chunks else None,
    )


def attempt_indices(job: CollectJob, already_stored: Container[int]) -> Iterator[int]:
    """Attempt indices 0, 1, ... skipping those whose scene is already in the store (appending)."""
    index = 0
    while True:
        if scene_seed(job.seed, index, COLLECT_STREAM) not in already_stored:
            yield index
        index += 1


def _ignore_interrupts() -> None:
    # Ctrl-C goes to the whole process group; the main process alone decides how to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def iter_demos(job: CollectJob, indices: Iterator[int], workers: int = 1) -> Generator[Demo, None, None]:
    """Demos for `indices` in order, produced by `workers` processes (1: in this process).

    Stop iterating to stop the workers; at most 2 x workers attempts run ahead.
    """
    if workers < 1:
        raise CollectError(f"workers must be at least 1, got {workers}")
    if workers == 1:
        for index in indices:
            yield record_demo(job, index)
        return
    # spawn, not fork: a forked MuJoCo/EGL context is not safe to use in the child.
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(workers, initializer=_ignore_interrupts)
    try:
        pending: deque = deque()
        for index in indices:
            pending.append(pool.apply_async(record_demo, (job, index)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:  # only reached with a finite list of indices
            yield pending.popleft().get()
    finally:
        pool.terminate()
        pool.join()
