"""`dexagent collect`: scripted demonstrations in sim, written to a zarr store as they succeed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, console, fail
from dexagent.cli.progress_lines import ProgressLines

if TYPE_CHECKING:
    from dexagent.controller.data.collect import CollectJob
    from dexagent.controller.data.collection import CollectionTally
from dexagent.controller.perception.registry import TRACKERS
from dexagent.controller.skill_spec import CONTROLLED_SKILLS, DEFAULT_SKILL
from dexagent.hardware.registry import ROBOTS
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE, SPLITS, CameraSizes


def _camera_sizes(
    on_policy: str | None, skill: str, requested: int | None, requested_wrist: int | None
) -> CameraSizes:
    """What the demos' head and wrist cameras render at: `requested` (the wrist `requested_wrist`
    where given), else the sizes the --on-policy checkpoint was trained at (as `run` and `eval`
    render it), else the default. Sizes that checkpoint never saw fail."""
    from dexagent.agent.world import camera_sizes
    from dexagent.controller.data.collect import policy_choice
    from dexagent.controller.factory import ControllerNotFoundError

    if on_policy is None:
        head = requested or DEFAULT_IMAGE_SIZE
        return CameraSizes(head, requested_wrist or head)
    try:
        policy = policy_choice(on_policy, skill)  # read once: the demos of this process build from it
    except ControllerNotFoundError as error:
        fail(str(error))
    sizes, trained = camera_sizes(policy, requested, requested_wrist), policy.render_sizes
    if trained is not None and sizes != trained:
        flags = f"--image-size {trained.head}" + (
            f" --wrist-size {trained.wrist}" if trained.wrist != trained.head else ""
        )
        fail(f"--on-policy {on_policy} was trained on {trained.shown()} images; pass {flags}")
    return sizes


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
    wrist_size: int | None = typer.Option(
        None,
        "--wrist-size",
        help="The wrist camera's own size, pixels, e.g. 96 for a wrist CNN beside a 224 px head "
        "(default: --image-size, or the --on-policy checkpoint's wrist size). Sim only.",
    ),
    workers: int = typer.Option(1, help="Processes producing episodes while this one writes."),
    objects: int = typer.Option(6, help="Objects per scene (1-8)."),
    noise: float = typer.Option(
        0.0,
        help="DART noise: std (rad) of a drifting offset on the executed arm joints in free-space "
        "phases; demos record the expert's clean action, so they show corrections.",
    ),
    push_height: float = typer.Option(
        0.0,
        "--push-height",
        help="Push demos: the executed push starts 0.3-1 x PUSH_HEIGHT m too high and sinks to the push's "
        "line before the fingers touch the object; demos record the expert's path, so they show the "
        "correction.",
    ),
    tempo: float = typer.Option(
        0.0,
        help="Vary the expert's timing per demo (approach and descent, and a push, up to 1 + TEMPO "
        "times slower, a pause of up to TEMPO s before the descent), so that a demo's close or the end "
        "of its push is not on a clock.",
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
    round_: int | None = typer.Option(
        None,
        "--round",
        help="The round number written into each episode's metadata, which `train --round` selects "
        "(default: 1 with --on-policy, else 0).",
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
        if wrist_size is not None:
            fail("--wrist-size is for the sim; kinesthetic demos square both cameras to --image-size")
        _collect_real(
            out,
            robot_config,
            episodes,
            skill,
            image_size,
            tracker,
            tracker_option,
            planner_url,
            planner_model,
        )
        return
    if workers < 1:
        fail(f"--workers must be at least 1, got {workers}")
    # Heavy imports (MuJoCo, zarr) here, so `dexagent --help` stays fast.
    from dexagent.controller.data.collect import CollectError, CollectJob

    sizes = _camera_sizes(on_policy, skill, image_size, wrist_size)
    try:
        job = CollectJob(
            skill=skill,
            split=split,
            image_size=sizes.head,
            wrist_size=sizes.wrist,
            n_objects=objects,
            seed=seed,
            noise=noise,
            push_height=push_height,
            tempo=tempo,
            policy=on_policy,
            beta=beta if on_policy is not None else 1.0,
            round=round_ if round_ is not None else int(on_policy is not None),
        )
    except CollectError as error:
        fail(str(error))
    _collect_sim(job, out, episodes, workers)


def _collect_real(
    out: Path,
    robot_config: Path | None,
    episodes: int,
    skill: str,
    image_size: int | None,
    tracker: str,
    tracker_option: list[str],
    planner_url: str | None,
    planner_model: str | None,
) -> None:
    """Kinesthetic demonstrations on the real robot, a VLM proposing each target's box when given."""
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


def _collect_sim(job: CollectJob, out: Path, episodes: int, workers: int) -> None:
    """Collect `job`'s demos into the store at `out` with a progress bar, then print the tally."""
    from dexagent.controller.data import DemoStore, StoreError
    from dexagent.controller.data.collection import CollectionTally, collect_into, folder_bytes
    from dexagent.hardware.sim.robot import sim_robot_spec

    try:
        spec = sim_robot_spec()
        store = DemoStore.create_or_append(
            out,
            image_size=job.image_size,
            wrist_size=job.wrist_size,
            control_hz=spec.control_hz,
            joints=len(spec.joint_names),
        )
    except StoreError as error:
        fail(str(error))
    tally = CollectionTally()
    with store:
        stored_before = store.num_episodes
        progress = Progress(
            TextColumn(f"[bold]collect {job.skill}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[speed]}"),
            TimeElapsedColumn(),
            console=console,
        )

        lines = ProgressLines(console, "demo", episodes)  # the bar is not drawn in a pipe or log

        def show(so_far: CollectionTally) -> None:
            rate = f"{so_far.kept}/{so_far.attempts} succeeded"
            speed = f"{so_far.kept / (so_far.elapsed() / 60):.1f} demos/min"
            progress.update(bar, completed=so_far.kept, rate=rate, speed=speed)
            lines.update(so_far.kept, f"{rate}, {speed}")

        try:
            with progress:
                bar = progress.add_task("demos", total=episodes, rate="", speed="")
                collect_into(store, job, episodes, workers=workers, tally=tally, on_demo=show)
        except KeyboardInterrupt:
            console.print(
                f"[yellow]interrupted[/]: {tally.kept} new demos committed to {out} "
                f"({store.num_episodes} in the store); a partly written episode is dropped on next open"
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
        total_frames, total_episodes = store.num_frames, store.num_episodes
    _print_tally(tally, out, on_policy=job.policy is not None)
    size = folder_bytes(out)
    console.print(
        f"store: {total_episodes} episodes ({total_episodes - stored_before} new), {total_frames} frames, "
        f"{size / 1e6:.1f} MB on disk ({size / max(total_episodes, 1) / 1e6:.2f} MB per demo)"
    )
    if tally.kept < episodes:
        console.print(
            f"[red]stopped after {tally.attempts} attempts with only {tally.kept} of {episodes} demos[/]: "
            "the scripted expert fails too often on these scenes"
        )
        raise typer.Exit(EXIT_FAILED)


def _print_tally(tally: CollectionTally, out: Path, *, on_policy: bool) -> None:
    """What the run kept and dropped, how fast, and (on-policy) how the rollouts went."""
    elapsed, kept, attempts = tally.elapsed(), tally.kept, tally.attempts
    console.print(
        f"wrote {kept} demos ({attempts} attempts, {kept / attempts:.1%} kept) to {out} "
        f"in {elapsed:.1f} s: {kept / elapsed * 60:.1f} demos/min"
    )
    if tally.dropped:
        console.print("dropped: " + tally.dropped_summary())
    if on_policy:
        console.print(tally.rollouts.summary(), markup=False)
