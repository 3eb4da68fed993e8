"""`dexagent collect`: scripted demonstrations in sim, written to a zarr store as they succeed."""

from __future__ import annotations

import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, console, fail

if TYPE_CHECKING:
    from dexagent.controller.data.collect import Demo
from dexagent.controller.perception.registry import TRACKERS
from dexagent.controller.skill_spec import CONTROLLED_SKILLS, DEFAULT_SKILL
from dexagent.hardware.registry import ROBOTS
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE, SPLITS


class RolloutTally:
    """How the kept on-policy rollouts went: grasps, failures, the expert's share, label re-opens."""

    def __init__(self) -> None:
        self.episodes = self.grasped = self.reopening = self.ticks = self.expert_ticks = 0
        self.reasons: Counter[str] = Counter()

    def add(self, demo: Demo) -> None:
        self.episodes += 1
        self.grasped += demo.success
        self.reopening += demo.label_reopens > 0
        self.ticks += demo.steps
        self.expert_ticks += demo.expert_ticks
        if not demo.success:
            self.reasons[demo.reason or "failed"] += 1

    def summary(self) -> str:
        reasons = ", ".join(f"{reason} {count}" for reason, count in self.reasons.most_common()) or "none"
        return (
            f"rollouts: {self.grasped}/{self.episodes} grasped; expert drove "
            f"{self.expert_ticks / max(self.ticks, 1):.0%} of ticks; {self.reopening} episodes whose labels "
            f"re-open the hand; failures: {reasons}"
        )


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _camera_size(on_policy: str | None, skill: str, requested: int | None) -> int:
    """What the demos render at: `requested`, else the size the --on-policy checkpoint was trained at
    (as `run` and `eval` render it), else the default. A size that checkpoint never saw fails."""
    from dexagent.agent.world import camera_size
    from dexagent.controller.data.collect import policy_choice
    from dexagent.controller.factory import ControllerNotFoundError

    if on_policy is None:
        return requested or DEFAULT_IMAGE_SIZE
    try:
        policy = policy_choice(on_policy, skill)  # read once: the demos of this process build from it
    except ControllerNotFoundError as error:
        fail(str(error))
    trained_at = policy.render_size
    if requested is not None and trained_at is not None and trained_at != requested:
        fail(f"--on-policy {on_policy} was trained on {trained_at} px images; pass --image-size {trained_at}")
    return camera_size(policy, requested)


@app.command("collect")
def collect(
    episodes: int = typer.Option(..., "--episodes", "-n", help="Successful demonstrations to record."),
    out: Path = typer.Option(..., "--out", help="Zarr store to create, or to append to if it exists."),
    skill: str = typer.Option(DEFAULT_SKILL, help=" | ".join(CONTROLLED_SKILLS.names())),
    seed: int = typer.Option(0, help="Base seed: scene seeds derive from it and the attempt index."),
    split: str = typer.Option("seen", help=" | ".join(SPLITS)),
    image_size: int | None = typer.Option(
        None,
        "--image-size",
        help="Square camera images, pixels (default: the --on-policy checkpoint's training size, "
        f"else {DEFAULT_IMAGE_SIZE}).",
    ),
    workers: int = typer.Option(1, help="Processes producing episodes while this one writes."),
    objects: int = typer.Option(6, help="Objects per scene (1-8)."),
    noise: float = typer.Option(
        0.0,
        help="DART noise: std (rad) of a drifting offset on the executed arm joints in free-space "
        "phases; demos record the expert's clean action, so they show corrections.",
    ),
    on_policy: str | None = typer.Option(
        None,
        "--on-policy",
        help="A checkpoint folder (or 'default') that drives while the scripted expert labels every tick "
        "(DAgger); every episode is kept. Sim only.",
    ),
    beta: float = typer.Option(
        0.0, help="--on-policy: probability that the expert drives each 0.4 s segment instead."
    ),
    round_: int = typer.Option(
        1, "--round", help="--on-policy: the round number written into each episode's metadata."
    ),
    robot: str = typer.Option(
        "sim",
        help=f"The robot, one of {ROBOTS.choices()}: sim (scripted experts) and real (kinesthetic: guide, "
        "then replay) record demonstrations; another type is refused by name.",
    ),
    robot_config: Path | None = typer.Option(None, "--robot-config", help="--robot real: the robot's YAML."),
    tracker: str = typer.Option(
        "sam2", help=f"--robot real: the mask tracker for the target: {TRACKERS.choices()}."
    ),
    tracker_option: list[str] = typer.Option([], "--tracker-option", help="--robot real: KEY=VALUE."),
    planner_url: str | None = typer.Option(None, help="--robot real: a VLM that proposes each target's box."),
    planner_model: str | None = typer.Option(None, help="--robot real: the VLM's model name."),
) -> None:
    """Record demonstrations: scripted experts in sim, or kinesthetic ones on the real robot."""
    if episodes <= 0:
        fail(f"--episodes must be positive, got {episodes}")
    if robot not in ROBOTS:
        fail(f"unknown robot {robot!r}; this build drives: {ROBOTS.choices()}")
    if robot not in ("sim", "real"):  # scripted experts need the sim, kinesthetic teaching the arm
        fail(f"--robot {robot}: collect records demonstrations on the sim or the real robot only")
    if robot == "real":
        from dexagent.cli.collect_real import run_real_collection
        from dexagent.cli.run_real import parse_options

        options = parse_options(tracker_option, "--tracker-option")
        planner = None
        if planner_url is not None:
            from dexagent.agent.planner import PlannerError, build_planner

            try:
                planner = build_planner("openai", base_url=planner_url, model=planner_model)
            except PlannerError as error:
                fail(f"planner: {error}")
        size = image_size or DEFAULT_IMAGE_SIZE
        run_real_collection(out, robot_config, episodes, skill, size, tracker, options, planner)
        return
    if workers < 1:
        fail(f"--workers must be at least 1, got {workers}")
    # Heavy imports (MuJoCo, zarr) here, so `dexagent --help` stays fast.
    from dexagent.controller.data import DemoStore, StoreError
    from dexagent.controller.data.collect import CollectError, CollectJob, attempt_indices, iter_demos
    from dexagent.hardware.sim.robot import sim_robot_spec

    image_size = _camera_size(on_policy, skill, image_size)
    try:
        job = CollectJob(
            skill=skill,
            split=split,
            image_size=image_size,
            n_objects=objects,
            seed=seed,
            noise=noise,
            policy=on_policy,
            beta=beta if on_policy is not None else 1.0,
            round=round_ if on_policy is not None else 0,
        )
    except CollectError as error:
        fail(str(error))
    try:
        spec = sim_robot_spec()
        store = DemoStore.create_or_append(
            out, image_size=image_size, control_hz=spec.control_hz, joints=len(spec.joint_names)
        )
    except StoreError as error:
        fail(str(error))
    max_attempts = max(20, 3 * episodes)  # a broken expert must not loop forever
    rollouts = RolloutTally()
    failures: Counter[str] = Counter()
    attempts = successes = 0
    started = time.perf_counter()
    with store:
        stored_before = store.num_episodes
        indices = attempt_indices(job, set(store.metadata_column("seed").tolist()))
        progress = Progress(
            TextColumn(f"[bold]collect {skill}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[speed]}"),
            TimeElapsedColumn(),
            console=console,
        )
        try:
            # closing(): leaving the loop early must stop the worker processes at once.
            with progress, closing(iter_demos(job, indices, workers)) as demos:
                bar = progress.add_task("demos", total=episodes, rate="", speed="")
                for demo in demos:
                    attempts += 1
                    if demo.frames is not None and demo.metadata is not None:
                        store.append_episode(demo.frames, demo.metadata)
                        successes += 1
                        rollouts.add(demo)
                    else:
                        failures[demo.reason or "failed"] += 1
                    minutes = (time.perf_counter() - started) / 60
                    progress.update(
                        bar,
                        completed=successes,
                        rate=f"{successes}/{attempts} succeeded",
                        speed=f"{successes / minutes:.1f} demos/min",
                    )
                    if successes >= episodes or attempts >= max_attempts:
                        break
        except KeyboardInterrupt:
            console.print(
                f"[yellow]interrupted[/]: {successes} new demos committed to {out} "
                f"({store.num_episodes} in the store); a partly written episode is dropped on next open"
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
        total_frames, total_episodes = store.num_frames, store.num_episodes
    elapsed = time.perf_counter() - started
    size = _folder_bytes(out)
    console.print(
        f"wrote {successes} demos ({attempts} attempts, {successes / attempts:.1%} kept) to {out} "
        f"in {elapsed:.1f} s: {successes / elapsed * 60:.1f} demos/min"
    )
    if failures:
        console.print(
            "dropped: " + ", ".join(f"{reason} {count}" for reason, count in failures.most_common())
        )
    if on_policy is not None:
        console.print(rollouts.summary(), markup=False)
    console.print(
        f"store: {total_episodes} episodes ({total_episodes - stored_before} new), {total_frames} frames, "
        f"{size / 1e6:.1f} MB on disk ({size / max(total_episodes, 1) / 1e6:.2f} MB per demo)"
    )
    if successes < episodes:
        console.print(
            f"[red]stopped after {attempts} attempts with only {successes} of {episodes} demos[/]: "
            "the scripted expert fails too often on these scenes"
        )
        raise typer.Exit(EXIT_FAILED)
