"""`dexagent run PROMPT`: the whole agent - planner, skill tree, controller - on the sim (or a robot)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

# Only what the options' help needs loads with the module (`dexagent --help` imports every command
# module); the agent, the controllers and the sim load when the command runs.
from dexagent.agent.planner.choices import DEFAULT_RETRIES, DEFAULT_TIMEOUT
from dexagent.agent.planner.factory import PLANNERS
from dexagent.agent.shown_text import shown
from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, console, fail
from dexagent.controller.perception.registry import TRACKERS
from dexagent.hardware.registry import ROBOTS
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE, SPLITS

if TYPE_CHECKING:
    from dexagent.agent.runner import RunResult
    from dexagent.agent.video import VideoRecorder
    from dexagent.agent.world import ControllerChoices, World
    from dexagent.controller.precision import PrecisionChoice
    from dexagent.hardware.sim.robot import SimRobot


def _controlled_skills(prompt: str, tree: str | None) -> tuple[tuple[str, ...], str]:
    """The controller-driven skills the run's tree can use, and the tree(s) in words.

    With --tree, that tree's; without, those of every bundled tree the prompt can lead to (the
    first plan decides between grasp_object and nonprehensile_grasp for a one-object prompt)."""
    from dexagent.agent.compile import candidate_trees
    from dexagent.controller.skill_spec import CONTROLLED_SKILLS
    from dexagent.trees.loader import load_tree
    from dexagent.trees.model import SkillNode, children_of

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
) -> ControllerChoices:
    """Everything that is bad input fails here, before a scene is built (exit 2); the controllers of
    the skills the tree can use, their checkpoints read and verified (once for the whole run)."""
    from dexagent.agent.world import ControllerChoices
    from dexagent.controller.factory import ControllerNotFoundError
    from dexagent.trees.errors import TreeError

    if not prompt.strip():
        fail('the prompt is empty: say what to do, e.g. dexagent run "clear the table"')
    if robot not in ROBOTS:
        fail(f"unknown robot {robot!r}; this build drives: {ROBOTS.choices()}")
    if planner not in PLANNERS:
        fail(f"unknown planner {planner!r}; choose one of {PLANNERS.choices()}")
    if robot == "sim" and not 1 <= objects <= 8:
        fail(f"--objects must be between 1 and 8, got {objects}")
    if robot == "sim" and split not in SPLITS:
        fail(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    try:
        skills, trees = _controlled_skills(prompt, tree)
    except TreeError as error:
        fail(str(error))
    choices = ControllerChoices(controller)
    for skill in skills:  # only what the tree runs: a grasp-only tree needs no push checkpoint
        try:
            choices[skill]
        except ControllerNotFoundError as error:
            if controller != "default":
                fail(f"--controller {controller}: {trees} uses {skill}: {error}")
            # The first thing a newcomer runs: say in one line what will work.
            works = shlex.join(["dexagent", "run", prompt, *(["--tree", tree] if tree else [])])
            fail(
                f"--controller default: {trees} uses {skill}, and no learned checkpoint ships for it "
                f"yet.\nThis works: {works} --controller scripted"
            )
    return choices


@app.command("run")
def run(
    prompt: str = typer.Argument(..., help='What to do, e.g. "clear the table" or "grasp the red cup".'),
    robot: str = typer.Option(
        "sim", help=f"The robot type: {ROBOTS.choices()}; any but sim reads --robot-config."
    ),
    planner: str = typer.Option("scene", help=f"The planner: {PLANNERS.choices()}."),
    planner_option: list[str] = typer.Option(
        [],
        "--planner-option",
        help="A planner option KEY=VALUE (repeatable), e.g. box_noise=0.1 for scene; `dexagent plugins` "
        "lists each planner's options.",
    ),
    planner_url: str | None = typer.Option(None, help="openai planner: the server URL (or OPENAI_BASE_URL)."),
    planner_model: str | None = typer.Option(
        None, help="openai planner: the model name (or DEXAGENT_PLANNER_MODEL)."
    ),
    planner_box_format: str = typer.Option(
        "auto", help="openai planner: box convention (auto: from the model)."
    ),
    controller: str = typer.Option(
        "default",
        help="default (the learned checkpoints that ship, one per skill; a tree that needs a skill "
        "without one stops before the run), scripted (the sim's expert) or a checkpoint folder.",
    ),
    robot_config: Path | None = typer.Option(
        None,
        "--robot-config",
        help="A robot other than sim: its YAML file, whose `type` is --robot (for real: addresses, "
        "serials, limits, poses).",
    ),
    tracker: str = typer.Option(
        "sam2", help=f"A robot other than sim: the mask tracker: {TRACKERS.choices()}."
    ),
    tracker_option: list[str] = typer.Option(
        [],
        "--tracker-option",
        help="A robot other than sim: a tracker option KEY=VALUE (repeatable), e.g. checkpoint=...",
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
    wrist_size: int | None = typer.Option(
        None,
        help="The sim wrist camera's own resolution (pixels, square); default: --image-size where "
        "given, else what the learned controller's wrist was trained at.",
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

    Exit 1 when the prompt was not completed (the reason is printed), 2 for bad input, 3 when a
    device reported a fault (e.g. the hand's error bits; clear them with `dexagent doctor
    --robot-config FILE --clear-hand-errors` after looking), 130 when stopped with Ctrl-C or SIGTERM.
    """
    controllers = _check_inputs(prompt, robot, planner, controller, tree, objects, split)
    chosen_precision = _check_run_options(
        controllers, precision, max_seconds, planner_timeout, planner_retries
    )
    from dexagent.cli.run_real import parse_options

    planner_options = parse_options(planner_option, "--planner-option")
    if planner == "openai":  # its own flags; --planner-option may add any other of its options
        openai = {
            "base_url": planner_url,
            "model": planner_model,
            "box_format": planner_box_format,
            "timeout": planner_timeout,
            "max_retries": planner_retries,
        }
        planner_options = {**openai, **planner_options}
    if robot != "sim":  # every other registered type: a robot without a simulator behind it
        from dexagent.cli.run_real import run_on_real_robot

        run_on_real_robot(
            prompt,
            robot=robot,
            robot_config=robot_config,
            planner=planner,
            planner_options=planner_options,
            controllers=controllers,
            tracker=tracker,
            tracker_options=parse_options(tracker_option, "--tracker-option"),
            tree=tree,
            log=log,
            max_seconds=max_seconds,
            live=live,
            precision=chosen_precision,
        )
        return
    _run_on_sim(
        prompt,
        planner=planner,
        planner_options=planner_options,
        controllers=controllers,
        controller=controller,
        tree=tree,
        seed=seed,
        objects=objects,
        split=split,
        camera_sizes=(image_size, wrist_size),
        video=video,
        log=log,
        max_seconds=max_seconds,
        realtime=realtime,
        verifier=verifier,
        live=live,
        precision=chosen_precision,
    )


def _check_run_options(
    controllers: ControllerChoices,
    precision: str,
    max_seconds: float,
    planner_timeout: float,
    planner_retries: int,
) -> PrecisionChoice:
    """The run's precision and numeric options, checked for every robot type (exit 2 when bad); the
    precision each controller will run at is said first."""
    from dexagent.controller.precision import PrecisionError, check_choice

    try:
        chosen_precision = check_choice(precision, "--precision")
    except PrecisionError as error:
        fail(str(error))
    for note in controllers.precision_notes(chosen_precision):
        console.print(f"[dim]{note}[/]")
    if max_seconds <= 0:
        fail(f"--max-seconds must be positive, got {max_seconds}")
    if planner_timeout <= 0 or planner_retries < 0:
        fail(
            "--planner-timeout must be positive and --planner-retries at least 0, "
            f"got {planner_timeout:g} and {planner_retries}"
        )
    return chosen_precision


def _run_on_sim(
    prompt: str,
    *,
    planner: str,
    planner_options: dict[str, Any],
    controllers: ControllerChoices,
    controller: str,
    tree: str | None,
    seed: int,
    objects: int,
    split: str,
    camera_sizes: tuple[int | None, int | None],
    video: Path | None,
    log: Path | None,
    max_seconds: float,
    realtime: bool,
    verifier: bool,
    live: bool,
    precision: PrecisionChoice,
) -> None:
    """Build the MuJoCo scene and its world, run the agent on it, and report (`camera_sizes`: the
    --image-size and --wrist-size asked for, None: the controllers' training sizes)."""
    from dexagent.agent.episode_log import EpisodeLog
    from dexagent.agent.live_view import LINES_EVERY_S, LiveView, scene_line
    from dexagent.agent.planner.errors import (
        PlannerConfigError,
        PlannerUnreachableError,
        PromptNotUnderstoodError,
    )
    from dexagent.agent.runner import RunConfig
    from dexagent.agent.video import VideoRecorder

    scene: dict[str, object] = {"seed": seed, "objects": objects, "split": split}
    for key, size in zip(("image_size", "wrist_size"), camera_sizes, strict=True):
        if size is not None:  # else the controllers' training size
            scene[key] = size
    world, sim = _build_sim_world(scene, controllers, planner, planner_options, precision)
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
    # Not on a terminal (a pipe, a log file): a progress line every few seconds instead of the view.
    lines_every_s = None if console.is_terminal else LINES_EVERY_S
    view = LiveView(console, enabled=live and console.is_terminal, lines_every_s=lines_every_s)
    agent = world.agent_run(
        config, log=episode_log, on_tick=view.update, on_frame=recorder.add if recorder is not None else None
    )
    names = [o.name for o in sim.objects]
    episode_log.write(
        "setup",
        {
            "robot": "sim",
            "planner": planner,
            "controller": controller,
            "seed": seed,
            "objects": names,
            "split": split,
            "image_size": sim.image_size,
            "wrist_size": sim.wrist_size,
        },
    )
    console.print(scene_line(seed, split, names))
    from dexagent.cli.stop_signals import stop_signals

    with stop_signals(agent):  # held to the end: a late Ctrl-C must not cut the summary short
        try:
            with view:
                result = agent.run()
        except (PlannerUnreachableError, PlannerConfigError) as error:
            fail(f"planner: {error}")
        except PromptNotUnderstoodError as error:
            fail(str(error))
        finally:
            episode_log.close()
            if recorder is not None:
                recorder.close()
            world.close()
        _report(result, video, log, recorder)


def _build_sim_world(
    scene: dict[str, object],
    controllers: ControllerChoices,
    planner: str,
    planner_options: dict[str, Any],
    precision: PrecisionChoice,
) -> tuple[World, SimRobot]:
    """The sim scene's world (robot, planner, controllers) and its sim; what cannot be built exits 2."""
    from dexagent.agent.planner.errors import PlannerError
    from dexagent.agent.world import WorldError, build_sim_world
    from dexagent.hardware import HardwareError
    from dexagent.hardware.sim.config import SimRobotConfig
    from dexagent.hardware.sim.robot import SimRobot

    try:
        world = build_sim_world(
            SimRobotConfig.model_validate(scene),
            controllers,
            planner=planner,
            planner_options=planner_options,
            precision=precision,
        )
    except PlannerError as error:
        fail(f"planner {planner}: {error}")
    except WorldError as error:
        fail(str(error))
    except (HardwareError, ValueError) as error:
        fail(f"cannot build the sim scene: {error}")
    sim = world.robot
    if not isinstance(sim, SimRobot):  # the sim path builds a sim: its scene's objects are listed
        fail(f"--robot sim built a {type(sim).__name__}, not the MuJoCo sim")
    return world, sim


def _report(result: RunResult, video: Path | None, log: Path | None, recorder: VideoRecorder | None) -> None:
    """The summary, where the video and log went, and the exit code (0 done, 1 not done, 130 stopped).

    The reason is in the summary's outcome row, said once."""
    from dexagent.agent.live_view import summary_table

    console.print(summary_table(result))
    if video is not None:
        console.print(f"[dim]video: {shown(video)} ({recorder.frames if recorder else 0} frames)[/]")
    if log is not None:
        console.print(f"[dim]episode log: {shown(log)}[/]")
    if result.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    if not result.completed:
        raise typer.Exit(EXIT_FAILED)
