"""`dexagent planner check|ground|propose`: try a VLM server before a run depends on it.

The box convention is the usual thing to get wrong with a new model or server; `ground`
draws the box the planner understood onto the image, so a glance tells.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

# The planner, numpy and PIL load when a command runs; --help needs only the choices.
from dexagent.agent.planner.choices import BOX_FORMATS, DEFAULT_TIMEOUT
from dexagent.agent.planner.errors import PlannerConfigError, PlannerError, PlannerUnreachableError
from dexagent.agent.shown_text import plain, shown
from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, console, fail

if TYPE_CHECKING:
    from dexagent.agent.planner import OpenAIPlanner
    from dexagent.hardware import Observation

planner_app = typer.Typer(
    help="Check a VLM planner server (key from OPENAI_API_KEY); ground a target or plan a prompt.",
    no_args_is_help=True,
)
app.add_typer(planner_app, name="planner")

# The same flag names as `dexagent run`, so a working check line carries over to the run.
URL = typer.Option(None, "--planner-url", help="OpenAI-compatible server URL (or OPENAI_BASE_URL).")
MODEL = typer.Option(None, "--planner-model", help="Served model name (or DEXAGENT_PLANNER_MODEL).")
BOX_FORMAT = typer.Option(
    "auto", "--planner-box-format", help=f"Box convention: auto (from the model) or {', '.join(BOX_FORMATS)}."
)
TIMEOUT = typer.Option(
    DEFAULT_TIMEOUT, "--planner-timeout", "--timeout", help="Seconds to wait for one reply."
)


def _connect(url: str | None, model: str | None, box_format: str, timeout: float) -> OpenAIPlanner:
    from dexagent.agent.planner import OpenAIPlanner, build_planner

    try:
        planner = build_planner("openai", base_url=url, model=model, box_format=box_format, timeout=timeout)
    except (PlannerUnreachableError, PlannerConfigError) as error:
        fail(str(error))
    assert isinstance(planner, OpenAIPlanner)
    return planner


def _observation(image: Path) -> Observation:
    """The image as a head (and wrist) camera reading."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    from dexagent.hardware import Observation

    try:
        with Image.open(image) as picture:
            rgb = np.asarray(picture.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as error:
        fail(f"cannot read image {image}: {error}")
    return Observation(head_rgb=rgb, wrist_rgb=rgb, state=np.zeros(13, np.float32), t=0.0)


@planner_app.command("check")
def check(
    url: str | None = URL, model: str | None = MODEL, box_format: str = BOX_FORMAT, timeout: float = TIMEOUT
) -> None:
    """Contact the server and confirm it serves the model; print the box convention in use."""
    planner = _connect(url, model, box_format, timeout)
    console.print(f"[green]ok[/] {shown(planner.describe())}")


@planner_app.command("ground")
def ground(
    image: Path = typer.Argument(..., help="A head-camera image (PNG/JPEG)."),
    target: str = typer.Argument(..., help='The object, e.g. "the red cup".'),
    out: Path | None = typer.Option(None, "--out", help="Write the image with the box drawn on it (PNG)."),
    url: str | None = URL,
    model: str | None = MODEL,
    box_format: str = BOX_FORMAT,
    timeout: float = TIMEOUT,
) -> None:
    """Ask the model for TARGET's box in IMAGE and print it in image pixels."""
    from PIL import Image, ImageDraw

    from dexagent.skills.planning import Instruction

    observation = _observation(image)
    planner = _connect(url, model, box_format, timeout)
    try:
        box = planner.ground(Instruction(target=target, text=f"grasp {target}"), observation)
    except PlannerError as error:
        fail(str(error), EXIT_FAILED)
    except KeyboardInterrupt:
        fail("stopped while waiting for the planner (Ctrl-C)", EXIT_INTERRUPTED)
    console.print(
        f"{shown(target)}: x1={box.x1:.1f} y1={box.y1:.1f} x2={box.x2:.1f} y2={box.y2:.1f} (image pixels)"
    )
    if out is not None:
        picture = Image.fromarray(observation.head_rgb)
        ImageDraw.Draw(picture).rectangle(box.as_tuple(), outline=(255, 0, 0), width=2)
        try:
            picture.save(out, format="PNG")
        except OSError as error:
            fail(f"cannot write {out}: {error}")
        console.print(f"wrote {shown(out)}")


@planner_app.command("propose")
def propose(
    image: Path = typer.Argument(..., help="A head-camera image (PNG/JPEG)."),
    prompt: str = typer.Argument(..., help='What to do, e.g. "clear the table".'),
    url: str | None = URL,
    model: str | None = MODEL,
    box_format: str = BOX_FORMAT,
    timeout: float = TIMEOUT,
) -> None:
    """Ask the model to plan PROMPT for the scene in IMAGE and print the instructions."""
    observation = _observation(image)
    planner = _connect(url, model, box_format, timeout)
    try:
        plan = planner.propose(prompt, observation, [])
    except PlannerError as error:
        fail(str(error), EXIT_FAILED)
    except KeyboardInterrupt:
        fail("stopped while waiting for the planner (Ctrl-C)", EXIT_INTERRUPTED)
    table = Table("#", "skill", "target", "instruction", title=plain(f"plan for {prompt!r}"))
    for number, instruction in enumerate(plan.instructions, start=1):
        table.add_row(
            str(number), plain(instruction.skill), plain(instruction.target), plain(instruction.text)
        )
    console.print(table)
    console.print(f"reasoning: {shown(plan.reasoning or '(none given)')}")
