"""`dexagent sim show|video`: look at a scene (head, wrist, segmentation) or record an episode."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dexagent.agent.shown_text import shown
from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_INTERRUPTED, console, fail
from dexagent.controller.skill_spec import CONTROLLED_SKILLS, DEFAULT_SKILL
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE, SPLITS

if TYPE_CHECKING:  # the sim, the pictures and the controllers load when a command runs
    from PIL import Image

sim_app = typer.Typer(help="Look at the simulation: render a scene, record an episode.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")

# The controller-driven skills whose targets are flat objects, e.g. "push_then_grasp".
_FLAT_TARGET_SKILLS = " / ".join(spec.name for spec in CONTROLLED_SKILLS if spec.flat_target)
_VIDEO_FPS = 20.0  # one frame per control tick


@sim_app.command("show")
def show(
    out: Path = typer.Option(..., "--out", help="PNG to write."),
    seed: int = typer.Option(0, help="Scene seed (the scene_seed of an eval record or a demo)."),
    split: str = typer.Option("seen", help=" | ".join(SPLITS)),
    objects: int = typer.Option(6, help="Objects in the scene (1-8)."),
    flat_target: bool = typer.Option(
        False, "--flat-target", help=f"A {_FLAT_TARGET_SKILLS} scene (flat object)."
    ),
    image_size: int = typer.Option(DEFAULT_IMAGE_SIZE, "--image-size", help="Square camera images, pixels."),
    wrist_size: int | None = typer.Option(
        None, "--wrist-size", help="The wrist camera's own size, pixels (default: --image-size)."
    ),
) -> None:
    """Render the head camera, the wrist camera and the head segmentation side by side."""
    import numpy as np

    from dexagent.cli.sim_pictures import colourise, label, number_objects, object_colours, panel_sheet
    from dexagent.hardware.errors import HardwareError
    from dexagent.hardware.sim.robot import SimRobot  # MuJoCo here, so `dexagent --help` stays fast
    from dexagent.hardware.sim.scenes import sample_scene

    if out.suffix.lower() != ".png":
        fail(f"--out {out} must end in .png")
    try:
        scene = sample_scene(seed, split, objects, flat_target=flat_target)
        with SimRobot(scene, image_size=image_size, wrist_size=wrist_size) as robot:
            observation = robot.observe()
            scene_objects = robot.objects
    except (HardwareError, ValueError) as error:
        fail(str(error))
    assert observation.head_segmentation is not None  # the sim renders it with the head camera
    segmentation = observation.head_segmentation
    colours = object_colours(len(scene_objects))
    visible = set(np.unique(segmentation).tolist())
    legend = [
        (tuple(int(c) for c in colours[o.index]), label(o) + ("" if o.index in visible else "  (hidden)"))
        for o in scene_objects
    ]
    sheet = panel_sheet(
        [
            (f"head  seed {seed}, {split}", observation.head_rgb),
            ("wrist", observation.wrist_rgb),
            ("head segmentation", number_objects(colourise(segmentation, len(scene_objects)), segmentation)),
        ],
        legend,
    )
    _save(sheet, out)
    console.print(f"wrote {shown(out)} ({scene.background.name} table, {scene.lighting.name} light)")


def _save(image: Image.Image, out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(out)
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror or error}")


@sim_app.command("video")
def video(
    out: Path = typer.Option(..., "--out", help="MP4 to write."),
    controller: str = typer.Option("scripted", help="scripted | default | PATH to a checkpoint folder."),
    skill: str = typer.Option(DEFAULT_SKILL, help=" | ".join(CONTROLLED_SKILLS.names())),
    seed: int = typer.Option(0, help="Scene seed (the scene_seed of an eval record or a demo)."),
    split: str = typer.Option("seen", help=" | ".join(SPLITS)),
    objects: int = typer.Option(6, help="Objects in the scene (1-8)."),
    attempts: int = typer.Option(1, help="Attempts on the scene (re-homing between them)."),
    image_size: int | None = typer.Option(
        None,
        "--image-size",
        help="Square camera images, pixels (default: what a learned controller was trained at, as "
        f"`run` and `eval` render it; {DEFAULT_IMAGE_SIZE} for scripted).",
    ),
    wrist_size: int | None = typer.Option(
        None,
        "--wrist-size",
        help="The wrist camera's own size, pixels (default: --image-size where given, else what a "
        "learned controller's wrist was trained at).",
    ),
) -> None:
    """Record one closed-loop episode (head and wrist cameras) to an MP4."""
    from dexagent.agent.evaluation import EpisodeTask, Suite, SuiteError, run_grasp_episode
    from dexagent.agent.evaluation.runner import episode_controllers
    from dexagent.agent.world import camera_sizes
    from dexagent.cli.sim_pictures import VideoWriter
    from dexagent.controller.factory import ControllerNotFoundError
    from dexagent.hardware.errors import HardwareError
    from dexagent.hardware.sim.scenes import sample_scene

    if out.suffix.lower() != ".mp4":
        fail(f"--out {out} must end in .mp4")
    try:
        suite = Suite("video", "one recorded episode", ((split, 1),), skill=skill, n_objects=objects)
        # Its checkpoint read once, here; the episode builds its controller from what was read.
        # As `run` and `eval` render it.
        sizes = camera_sizes(episode_controllers(controller, skill), image_size, wrist_size)
        sample_scene(seed, split, objects, flat_target=suite.flat_target)  # bad arguments fail here, fast
    except (SuiteError, ControllerNotFoundError, HardwareError, ValueError) as error:
        fail(str(error))
    if attempts < 1:
        fail(f"--attempts must be at least 1, got {attempts}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        writer = VideoWriter(out, fps=_VIDEO_FPS, caption=f"{controller} {skill}  seed {seed} {split}")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror or error}")
    task = EpisodeTask(0, split, seed, suite, controller, attempts, sizes.head, wrist_size=sizes.wrist)
    try:
        record = run_grasp_episode(task, on_tick=writer)
    except KeyboardInterrupt:
        fail(f"stopped (Ctrl-C); {out} holds the frames recorded so far", EXIT_INTERRUPTED)
    finally:
        writer.close()
    verdict = (
        f"[green]grasped[/] on attempt {record.success_attempt}"
        if record.success
        else f"[red]failed[/] ({shown(record.failure_reason)})"
    )
    console.print(
        f"wrote {shown(out)}: {writer.frames} frames, target {shown(record.target_name)}: {verdict}"
    )
    # The video's length is its frames at the control rate; the wall time is only how long it took.
    console.print(
        f"{writer.frames / _VIDEO_FPS:.1f} s of video ({record.steps} control steps at {_VIDEO_FPS:g} Hz), "
        f"recorded in {record.wall_seconds:.1f} s"
    )
