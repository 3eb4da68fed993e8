"""`dexagent run PROMPT`: the whole agent - planner, skill tree, controller - on the sim (or a robot)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from dexagent.agent.compile import candidate_trees
from dexagent.agent.episode_log import EpisodeLog
from dexagent.agent.live_view import LiveView, summary_table
from dexagent.agent.planner import PLANNER_BACKENDS, PlannerError, build_planner
from dexagent.agent.planner.config import DEFAULT_RETRIES, DEFAULT_TIMEOUT
from dexagent.agent.planner.errors import PlannerConfigError, PlannerUnreachableError
from dexagent.agent.runner import AgentRun, RunConfig, RunResult
from dexagent.agent.shown_text import shown
from dexagent.agent.video import VideoRecorder
from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, console, err_console, fail
from dexagent.controller.factory import (
    ControllerNotFoundError,
    check_controller,
    controller_image_size,
    controller_precision,
)
from dexagent.controller.precision import PrecisionError, check_choice
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import HardwareError
from dexagent.hardware.registry import robot_types
from dexagent.hardware.sim.scene_spec import SPLITS
from dexagent.skills.planning import Planner
from dexagent.trees.errors import TreeError
from dexagent.trees.loader import load_tree
from dexagent.trees.model import SkillNode, children_of

if TYPE_CHECKING:
    from dexagent.hardware.sim.robot import SimRobot  # MuJoCo loads when the sim is built

ROBOTS = tuple(robot_types())  # the robot registry: sim, real
DEFAULT_IMAGE_SIZE = 224


def _camera_size(controller: str, skills: tuple[str, ...]) -> int:
    """Render at the size the learned policies saw in training: a 224 px frame resized to 96 is not
    the 96 px render they learned from. Scripted (or policies of different sizes): 224."""
    sizes = {controller_image_size(controller, skill) for skill in skills}
    size = sizes.pop() if len(sizes) == 1 else None
    return size or DEFAULT_IMAGE_SIZE


def _controlled_skills(prompt: str, tree: str | None) -> tuple[tuple[str, ...], str]:
    """The controller-driven skills the run's tree can use, and the tree(s) in words.

    With --tree, that tree's; without, those of every bundled tree the prompt can lead to (the
    first plan decides between grasp_object and nonprehensile_grasp for a one-object prompt)."""
    names = [tree] if tree is not None else list(candidate_trees(prompt))
    used: set[str] = set()
    for name in names:
        document = load_tree(name)
        nodes = [document.root, *document.subtrees.values()]
        while nodes:
            node = nodes.pop()
            if isinstance(node, SkillNode) and node.skill in CONTROLLED_SKILLS:
                used.add(node.skill)
            nodes.extend(children_of(node))
    label = (
        f"the tree {tree}"
        if tree is not None
        else "the bundled tree for this prompt (" + " or ".join(names) + ")"
    )
    return tuple(skill for skill in CONTROLLED_SKILLS.names() if skill in used), label


def _check_inputs(
    prompt: str, robot: str, planner: str, controller: str, tree: str | None, objects: int, split: str
) -> tuple[str, ...]:
    """Everything that is bad input fails here, before a scene is built (exit 2); the skills that
    need a controller."""
    if not prompt.strip():
        fail('the prompt is empty: say what to do, e.g. dexagent run "clear the table"')
    if robot not in ROBOTS:
        fail(f"unknown robot {robot!r}; this build drives: {', '.join(ROBOTS)}")
    if planner not in PLANNER_BACKENDS:
        fail(f"unknown planner {planner!r}; choose one of {', '.join(PLANNER_BACKENDS)}")
    if robot == "sim" and not 1 <= objects <= 8:
        fail(f"--objects must be between 1 and 8, got {objects}")
    if robot == "sim" and split not in SPLITS:
        fail(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    try:
        skills, trees = _controlled_skills(prompt, tree)
    except TreeError as error:
        fail(str(error))
    for skill in skills:  # only what the tree runs: a grasp-only tree needs no push checkpoint
        try:
            check_controller(controller, skill)
        except ControllerNotFoundError as error:
            fail(f"--controller {controller}: {trees} uses {skill}: {error}")
    return skills


@app.command("run")
def run(
    prompt: str = typer.Argument(..., help='What to do, e.g. "clear the table" or "grasp the red cup".'),
    robot: str = typer.Option("sim", help=f"The robot: {', '.join(ROBOTS)}."),
    planner: str = typer.Option(
        "scene", help="The planner: scene (sim ground truth) or openai (a VLM server)."
    ),
    planner_url: str | None = typer.Option(None, help="openai planner: the server URL (or OPENAI_BASE_URL)."),
    planner_model: str | None = typer.Option(
        None, help="openai planner: the model name (or DEXAGENT_PLANNER_MODEL)."
    ),
    planner_box_format: str = typer.Option(
        "auto", help="openai planner: box convention (auto: from the model)."
    ),
    controller: str = typer.Option(
        "default", help="default (the shipped checkpoint), scripted (sim expert) or a checkpoint folder."
    ),
    robot_config: Path | None = typer.Option(
        None,
        "--robot-config",
        help="--robot real: the robot's YAML file (addresses, serials, limits, poses).",
    ),
    tracker: str = typer.Option("sam2", help="--robot real: the mask tracker (sam2 or sam+cutie)."),
    tracker_option: list[str] = typer.Option(
        [],
        "--tracker-option",
        help="--robot real: a tracker option KEY=VALUE (repeatable), e.g. checkpoint=...",
    ),
    tree: str | None = typer.Option(
        None, help="A bundled tree name or a tree file; default: chosen from the plan."
    ),
    seed: int = typer.Option(0, help="Scene seed (the same seed gives the same scene)."),
    objects: int = typer.Option(6, help="Objects in the sim scene (1-8)."),
    split: str = typer.Option("seen", help=f"Sim domain split: {', '.join(SPLITS)}."),
    video: Path | None = typer.Option(None, help="Write head|wrist video of the run here (.mp4 or .gif)."),
    log: Path | None = typer.Option(None, help="Write the episode log here (JSON lines)."),
    max_seconds: float = typer.Option(600.0, help="Give up after this many seconds of control time."),
    realtime: bool = typer.Option(
        True, help="Pace ticks to wall-clock 20 Hz (--no-realtime: as fast as possible)."
    ),
    verifier: bool = typer.Option(
        False, help="Decide grasp success with the planner's verifier instead of the sim's ground truth."
    ),
    live: bool = typer.Option(
        True, help="Show the live tree view (off automatically when not on a terminal)."
    ),
    image_size: int | None = typer.Option(
        None,
        help="Sim camera resolution (pixels, square); default: what the learned controller was "
        f"trained at, {DEFAULT_IMAGE_SIZE} for the scripted one.",
    ),
    precision: str = typer.Option(
        "auto",
        "--precision",
        help="A learned controller's chunk precision: fp32 | bf16 | auto (the default measured faster "
        "for its config on this machine; fp32 where the CPU has no bf16 units).",
    ),
    planner_timeout: float = typer.Option(
        DEFAULT_TIMEOUT, help="openai planner: seconds to wait for one reply."
    ),
    planner_retries: int = typer.Option(
        DEFAULT_RETRIES, help="openai planner: retries of a request after a timeout, 429 or 5xx."
    ),
) -> None:
    """Run the agent on PROMPT: plan, compile a skill tree, tick it at 20 Hz; exit 0 when the prompt is done.

    Exit 1 when the prompt was not completed (the reason is printed), 2 for bad input, 130 when
    stopped with Ctrl-C or SIGTERM.
    """
    skills = _check_inputs(prompt, robot, planner, controller, tree, objects, split)
    try:
        chosen_precision = check_choice(precision, "--precision")
    except PrecisionError as error:
        fail(str(error))
    for note in dict.fromkeys(controller_precision(controller, skill, chosen_precision) for skill in skills):
        if note is not None:
            console.print(f"[dim]{note}[/]")
    if robot == "real":
        from dexagent.cli.run_real import parse_options, run_on_real_robot

        openai = {"base_url": planner_url, "model": planner_model, "box_format": planner_box_format}
        run_on_real_robot(
            prompt,
            robot_config=robot_config,
            planner=planner,
            planner_options=openai if planner == "openai" else {},
            controller=controller,
            tracker=tracker,
            tracker_options=parse_options(tracker_option, "--tracker-option"),
            tree=tree,
            log=log,
            max_seconds=max_seconds,
            live=live,
            precision=chosen_precision,
        )
        return
    if image_size is None:
        image_size = _camera_size(controller, skills)
    if max_seconds <= 0:
        fail(f"--max-seconds must be positive, got {max_seconds}")
    if planner_timeout <= 0 or planner_retries < 0:
        fail(
            "--planner-timeout must be positive and --planner-retries at least 0, "
            f"got {planner_timeout:g} and {planner_retries}"
        )
    from dexagent.agent.sim_world import build_sim_robot, sim_agent_run

    try:
        sim = build_sim_robot(seed, n_objects=objects, split=split, image_size=image_size)
    except (HardwareError, ValueError) as error:
        fail(f"cannot build the sim scene: {error}")
    options = {"timeout": planner_timeout, "max_retries": planner_retries}
    the_planner = _planner(planner, sim, planner_url, planner_model, planner_box_format, options)
    config = RunConfig(
        prompt=prompt,
        tree=tree,
        max_seconds=max_seconds,
        control_hz=sim.spec.control_hz,
        realtime=realtime,
        success_check="verifier" if verifier else "ground_truth",
        controller=controller,
    )
    episode_log = EpisodeLog(log)
    recorder = VideoRecorder(video, fps=sim.spec.control_hz) if video is not None else None
    view = LiveView(console, enabled=live and console.is_terminal)
    agent = sim_agent_run(
        sim,
        the_planner,
        controller,
        config,
        log=episode_log,
        on_tick=view.update,
        on_frame=recorder.add if recorder is not None else None,
        precision=chosen_precision,
    )
    episode_log.write(
        "setup",
        {
            "robot": robot,
            "planner": planner,
            "controller": controller,
            "seed": seed,
            "objects": [o.name for o in sim.objects],
            "split": split,
            "image_size": image_size,
        },
    )
    console.print(f"[dim]scene seed {seed} ({split}): {shown(', '.join(o.name for o in sim.objects))}[/]")
    with _stop_signals(agent):  # held to the end: a late Ctrl-C must not cut the summary short
        try:
            with view:
                result = agent.run()
        except (PlannerUnreachableError, PlannerConfigError) as error:
            fail(f"planner: {error}")
        finally:
            episode_log.close()
            if recorder is not None:
                recorder.close()
            sim.close()
        _report(result, video, log, recorder)


def _report(result: RunResult, video: Path | None, log: Path | None, recorder: VideoRecorder | None) -> None:
    """The summary, where the video and log went, and the exit code (0 done, 1 not done, 130 stopped)."""
    console.print(summary_table(result))
    if video is not None:
        console.print(f"[dim]video: {shown(video)} ({recorder.frames if recorder else 0} frames)[/]")
    if log is not None:
        console.print(f"[dim]episode log: {shown(log)}[/]")
    if result.interrupted:
        err_console.print(f"[yellow]stopped:[/] {shown(result.reason)}")
        raise typer.Exit(EXIT_INTERRUPTED)
    if not result.completed:
        err_console.print(f"[bold red]not completed:[/] {shown(result.reason)}")
        raise typer.Exit(EXIT_FAILED)


@contextmanager
def _stop_signals(agent: AgentRun) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) asks the run loop to stop safely at the next tick; a second one aborts at once;
    once the loop is over, more are ignored while the log and the summary are written.

    Set explicitly: a process started in the background inherits SIGINT as ignored, and then
    Python never installs its own handler.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        if agent.stop_was_requested:
            if agent.in_loop:
                raise KeyboardInterrupt  # the operator insists: stop now, still safely (see AgentRun.run)
            return  # already stopping, or the run is over and its log and summary are being written
        agent.request_stop()
        err_console.print("[yellow]stopping safely (Ctrl-C again to stop at once)...[/]")

    if threading.current_thread() is not threading.main_thread():
        yield  # signals can only be handled on the main thread (e.g. a test runner's worker)
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            # Stopped: the command is exiting, and one more Ctrl-C must not turn that into a traceback.
            signal.signal(sig, signal.SIG_IGN if agent.stop_was_requested else handler)


def _planner(
    name: str, sim: SimRobot, url: str | None, model: str | None, box_format: str, options: dict[str, Any]
) -> Planner:
    try:
        if name == "scene":
            return build_planner("scene", sim)
        return build_planner("openai", base_url=url, model=model, box_format=box_format, **options)
    except (PlannerUnreachableError, PlannerConfigError, PlannerError) as error:
        fail(f"planner {name}: {error}")
