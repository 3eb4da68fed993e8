"""`dexagent sim show|video`: look at a scene (head, wrist, segmentation) or record an episode."""

from __future__ import annotations

import colorsys
from pathlib import Path
from typing import TYPE_CHECKING

import imageio.v2 as imageio
import numpy as np
import typer
from PIL import Image, ImageDraw, ImageFont

from dexagent.agent.evaluation import EpisodeTask, Suite, SuiteError, run_grasp_episode
from dexagent.agent.shown_text import shown
from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_INTERRUPTED, console, fail
from dexagent.controller.factory import ControllerNotFoundError, check_controller
from dexagent.controller.skill_spec import CONTROLLED_SKILLS, DEFAULT_SKILL
from dexagent.hardware import Observation
from dexagent.hardware.errors import HardwareError
from dexagent.hardware.sim.scene_spec import SPLITS
from dexagent.hardware.sim.scenes import sample_scene

if TYPE_CHECKING:
    from dexagent.hardware.sim.robot import SceneObject

sim_app = typer.Typer(help="Look at the simulation: render a scene, record an episode.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")

_BACKGROUND = (28, 28, 32)
_TEXT = (235, 235, 235)
_MARGIN = 8
_TITLE = 22
# The controller-driven skills whose targets are flat objects, e.g. "push_then_grasp".
_FLAT_TARGET_SKILLS = " / ".join(spec.name for spec in CONTROLLED_SKILLS if spec.flat_target)


def object_colours(count: int) -> np.ndarray:
    """uint8[count, 3]: well-separated colours (golden-ratio hues) for segmentation ids 0..count-1."""
    hues = (np.arange(count) * 0.618034 + 0.08) % 1.0
    return np.array([[round(255 * c) for c in colorsys.hsv_to_rgb(h, 0.75, 0.95)] for h in hues], np.uint8)


def colourise(segmentation: np.ndarray, count: int) -> np.ndarray:
    """uint8[H, W, 3] from an int32[H, W] segmentation (-1 background -> dark grey)."""
    palette = np.vstack([np.array([[60, 60, 66]], np.uint8), object_colours(count)])
    return palette[segmentation + 1]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()


def _number_objects(image: np.ndarray, segmentation: np.ndarray) -> np.ndarray:
    """Write each visible object's index at the centre of its mask, so the legend can be read off."""
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    font = _font(max(10, image.shape[0] // 24))
    for index in np.unique(segmentation):
        if index < 0:
            continue
        ys, xs = np.nonzero(segmentation == index)
        draw.text((xs.mean(), ys.mean()), str(index), fill=(0, 0, 0), font=font, anchor="mm")
    return np.asarray(canvas)


def _panel_sheet(
    panels: list[tuple[str, np.ndarray]], legend: list[tuple[tuple[int, ...], str]]
) -> Image.Image:
    """Panels side by side with titles above and a colour legend below."""
    size = panels[0][1].shape[0]
    columns = 2 if size >= 200 else 1  # legend columns
    rows = -(-len(legend) // columns)
    width = len(panels) * size + (len(panels) + 1) * _MARGIN
    height = _TITLE + size + 2 * _MARGIN + rows * 18 + (_MARGIN if legend else 0)
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = _font(14)
    for column, (title, image) in enumerate(panels):
        x = _MARGIN + column * (size + _MARGIN)
        draw.text((x, 4), title, fill=_TEXT, font=font)
        sheet.paste(Image.fromarray(image), (x, _TITLE))
    top = _TITLE + size + _MARGIN
    column_width = (width - 2 * _MARGIN) // columns
    for position, (colour, label) in enumerate(legend):
        x = _MARGIN + (position // rows) * column_width  # column-major: 0, 1, 2 read downwards
        y = top + (position % rows) * 18
        draw.rectangle((x, y + 2, x + 12, y + 14), fill=colour)
        draw.text((x + 18, y), label, fill=_TEXT, font=font)
    return sheet


def _label(scene_object: SceneObject) -> str:
    extra = sorted(scene_object.tags - {scene_object.category, scene_object.colour, "flat"})
    flat = " (flat)" if scene_object.flat else ""
    return f"{scene_object.index}: {scene_object.name}{flat}" + (f"  [{', '.join(extra)}]" if extra else "")


@sim_app.command("show")
def show(
    out: Path = typer.Option(..., "--out", help="PNG to write."),
    seed: int = typer.Option(0, help="Scene seed (the scene_seed of an eval record or a demo)."),
    split: str = typer.Option("seen", help=" | ".join(SPLITS)),
    objects: int = typer.Option(6, help="Objects in the scene (1-8)."),
    flat_target: bool = typer.Option(
        False, "--flat-target", help=f"A {_FLAT_TARGET_SKILLS} scene (flat object)."
    ),
    image_size: int = typer.Option(320, "--image-size", help="Square camera images, pixels."),
) -> None:
    """Render the head camera, the wrist camera and the head segmentation side by side."""
    from dexagent.hardware.sim.robot import SimRobot  # MuJoCo here, so `dexagent --help` stays fast

    if out.suffix.lower() != ".png":
        fail(f"--out {out} must end in .png")
    try:
        scene = sample_scene(seed, split, objects, flat_target=flat_target)
        with SimRobot(scene, image_size=image_size) as robot:
            observation = robot.observe()
            scene_objects = robot.objects
    except (HardwareError, ValueError) as error:
        fail(str(error))
    assert observation.head_segmentation is not None  # the sim renders it with the head camera
    segmentation = observation.head_segmentation
    colours = object_colours(len(scene_objects))
    visible = set(np.unique(segmentation).tolist())
    legend = [
        (tuple(int(c) for c in colours[o.index]), _label(o) + ("" if o.index in visible else "  (hidden)"))
        for o in scene_objects
    ]
    sheet = _panel_sheet(
        [
            (f"head  seed {seed}, {split}", observation.head_rgb),
            ("wrist", observation.wrist_rgb),
            ("head segmentation", _number_objects(colourise(segmentation, len(scene_objects)), segmentation)),
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


class _VideoWriter:
    """Streams head | wrist frames with a caption to an MP4 at the control rate."""

    def __init__(self, out: Path, fps: float, caption: str) -> None:
        self._writer = imageio.get_writer(out, fps=fps, codec="libx264", quality=7, macro_block_size=1)
        self._caption = caption
        self._font = _font(13)
        self.frames = 0

    def __call__(self, observation: Observation, action: np.ndarray) -> None:
        size = observation.head_rgb.shape[0]
        frame = Image.new("RGB", (_even(2 * size), _even(size + 20)), _BACKGROUND)
        frame.paste(Image.fromarray(observation.head_rgb), (0, 20))
        frame.paste(Image.fromarray(observation.wrist_rgb), (size, 20))
        ImageDraw.Draw(frame).text(
            (4, 3), f"{self._caption}  t={observation.t:5.2f}s", fill=_TEXT, font=self._font
        )
        self._writer.append_data(np.asarray(frame))
        self.frames += 1

    def close(self) -> None:
        self._writer.close()


def _even(value: int) -> int:
    return value + value % 2  # H.264 needs even frame sides


_VIDEO_FPS = 20.0  # one frame per control tick


@sim_app.command("video")
def video(
    out: Path = typer.Option(..., "--out", help="MP4 to write."),
    controller: str = typer.Option("scripted", help="scripted | default | PATH to a checkpoint folder."),
    skill: str = typer.Option(DEFAULT_SKILL, help=" | ".join(CONTROLLED_SKILLS.names())),
    seed: int = typer.Option(0, help="Scene seed (the scene_seed of an eval record or a demo)."),
    split: str = typer.Option("seen", help=" | ".join(SPLITS)),
    objects: int = typer.Option(6, help="Objects in the scene (1-8)."),
    attempts: int = typer.Option(1, help="Attempts on the scene (re-homing between them)."),
    image_size: int = typer.Option(224, "--image-size", help="Square camera images, pixels."),
) -> None:
    """Record one closed-loop episode (head and wrist cameras) to an MP4."""
    if out.suffix.lower() != ".mp4":
        fail(f"--out {out} must end in .mp4")
    try:
        suite = Suite("video", "one recorded episode", ((split, 1),), skill=skill, n_objects=objects)
        check_controller(controller, skill)
        sample_scene(seed, split, objects, flat_target=suite.flat_target)  # bad arguments fail here, fast
    except (SuiteError, ControllerNotFoundError, HardwareError, ValueError) as error:
        fail(str(error))
    if attempts < 1:
        fail(f"--attempts must be at least 1, got {attempts}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        writer = _VideoWriter(out, fps=_VIDEO_FPS, caption=f"{controller} {skill}  seed {seed} {split}")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror or error}")
    task = EpisodeTask(0, split, seed, suite, controller, attempts, image_size)
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
