"""`dexagent run PROMPT`: the whole agent - planner, skill tree, controller - on the sim (or a robot)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import typer

from dexagent.agent.episode_log import EpisodeLog
from dexagent.agent.live_view import LiveView, summary_table
from dexagent.agent.planner import PLANNER_BACKENDS, PlannerError, build_planner
from dexagent.agent.planner.errors import PlannerConfigError, PlannerUnreachableError
from dexagent.agent.runner import AgentRun, RunConfig
from dexagent.agent.video import VideoRecorder
from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_FAILED, console, err_console, fail
from dexagent.controller.factory import ControllerNotFoundError, check_controller, controller_image_size
from dexagent.hardware import HardwareError
from dexagent.hardware.registry import robot_types
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scene_spec import SPLITS
from dexagent.skills.planning import Planner
from dexagent.trees.errors import TreeError
from dexagent.trees.loader import load_tree

ROBOTS = tuple(robot_types())  # the robot registry: sim, real
CONTROLLED_SKILLS = ("grasp", "push_then_grasp")
DEFAULT_IMAGE_SIZE = 224


def _camera_size(controller: str) -> int:
    """Render at the size the learned policies saw in training: a 224 px frame resized to 96 is not
    the 96 px render they learned from. Scripted (or policies of different sizes): 224."""
    sizes = {controller_image_size(controller, skill) for skill in CONTROLLED_SKILLS}
    size = sizes.pop() if len(sizes) == 1 else None
    return size or DEFAULT_IMAGE_SIZE


def _check_inputs(
    robot: str, planner: str, controller: str, tree: str | None, objects: int, split: str
) -> None:
    """Everything that is bad input fails here, before a scene is built (exit 2)."""
    if robot not in ROBOTS:
        fail(f"unknown robot {robot!r}; this build drives: {', '.join(ROBOTS)}")
    if planner not in PLANNER_BACKENDS:
        fail(f"unknown planner {planner!r}; choose one of {', '.join(PLANNER_BACKENDS)}")
    if robot == "sim" and not 1 <= objects <= 8:
        fail(f"--objects must be between 1 and 8, got {objects}")
    if robot == "sim" and split not in SPLITS:
        fail(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    for skill in CONTROLLED_SKILLS:
        try:
            check_controller(controller, skill)
        except ControllerNotFoundError as error:
            fail(f"--controller {controller}: {error}")
    if tree is not None:
        try:
            load_tree(tree)
        except TreeError as error:
            fail(str(error))


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
) -> None:
    """Run the agent on PROMPT: plan, compile a skill tree, tick it at 20 Hz; exit 0 when the prompt is done.

    Exit 1 when the prompt was not completed (the reason is printed), 2 for bad input.
    """
    _check_inputs(robot, planner, controller, tree, objects, split)
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
        )
        return
    if image_size is None:
        image_size = _camera_size(controller)
    if max_seconds <= 0:
        fail(f"--max-seconds must be positive, got {max_seconds}")
    from dexagent.agent.sim_world import build_sim_robot, sim_agent_run

    try:
        sim = build_sim_robot(seed, n_objects=objects, split=split, image_size=image_size)
    except (HardwareError, ValueError) as error:
        fail(f"cannot build the sim scene: {error}")
    the_planner = _planner(planner, sim, planner_url, planner_model, planner_box_format)
    config = RunConfig(
        prompt=prompt,
        tree=tree,
        max_seconds=max_seconds,
        control_hz=sim.spec.control_hz,
        realtime=realtime,
        success_check="verifier" if verifier else "ground_truth",
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
    console.print(f"[dim]scene seed {seed} ({split}): {', '.join(o.name for o in sim.objects)}[/]")
    try:
        with view, _stop_signals(agent):
            result = agent.run()
    except (PlannerUnreachableError, PlannerConfigError) as error:
        fail(f"planner: {error}")
    finally:
        episode_log.close()
        if recorder is not None:
            recorder.close()
        sim.close()
    console.print(summary_table(result))
    if video is not None:
        console.print(f"[dim]video: {video} ({recorder.frames if recorder else 0} frames)[/]")
    if log is not None:
        console.print(f"[dim]episode log: {log}[/]")
    if not result.completed:
        err_console.print(f"[bold red]not completed:[/] {result.reason}")
        raise typer.Exit(EXIT_FAILED)


@contextmanager
def _stop_signals(agent: AgentRun) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) asks the run loop to stop safely at the next tick; a second one aborts at once.

    Set explicitly: a process started in the background inherits SIGINT as ignored, and then
    Python never installs its own handler.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        if agent.stop_was_requested:
            raise KeyboardInterrupt  # the operator insists: stop now, still safely (see AgentRun.run)
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
            signal.signal(sig, handler)


def _planner(name: str, sim: SimRobot, url: str | None, model: str | None, box_format: str) -> Planner:
    try:
        if name == "scene":
            return build_planner("scene", sim)
        return build_planner("openai", base_url=url, model=model, box_format=box_format)
    except (PlannerUnreachableError, PlannerConfigError, PlannerError) as error:
        fail(f"planner {name}: {error}")
