"""`dexagent eval`: closed-loop evaluation in sim, printed like the paper's Table 1."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_INTERRUPTED, console, fail
from dexagent.cli.progress_lines import ProgressLines
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE

if TYPE_CHECKING:  # the harness, the sim and the controllers load when the command runs
    from dexagent.agent.evaluation import EpisodeRecord, EvalConfig

# The suite registry's names (tests/cli/test_help.py keeps this line in step with it).
SUITES_HELP = (
    "Suite: seen, unseen-objects, unseen-backgrounds, unseen-lighting, generalization, single-object, "
    "long-horizon, or a skill's own (nonprehensile); an unknown name lists them all."
)


@app.command("eval")
def evaluate(
    suite: str = typer.Option("seen", help=SUITES_HELP),
    episodes: int = typer.Option(20, "--episodes", "-n", help="Episodes (scenes) to run."),
    controller: str | None = typer.Option(
        None,
        help="scripted | default (the shipped checkpoint) | PATH to a checkpoint folder "
        "(not given: the suite's default - the shipped checkpoint; scripted for long-horizon).",
    ),
    seed: int = typer.Option(0, help="Base seed: episode scene seeds derive from it and the episode index."),
    attempts: int = typer.Option(1, help="Attempts per scene; reports success@1..K (the paper's Ours@k)."),
    workers: int = typer.Option(1, help="Processes running episodes; results are identical to 1 worker."),
    threads: int = typer.Option(1, help="Torch threads per episode process (more thrash on shared cores)."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the full report (every episode) here."),
    report: Path | None = typer.Option(
        None,
        "--report",
        help="Write a self-contained HTML report (table, charts, failure reasons, videos of failed "
        "episodes and a few successes, replayed after the run) into this folder.",
    ),
    image_size: int | None = typer.Option(
        None,
        "--image-size",
        help="Square camera images, pixels (default: the size the learned controller's demos were "
        f"rendered at; {DEFAULT_IMAGE_SIZE} for scripted).",
    ),
    wrist_size: int | None = typer.Option(
        None,
        "--wrist-size",
        help="The wrist camera's own size, pixels (default: --image-size where given, else the size the "
        "learned controller's wrist demos were rendered at).",
    ),
    precision: str = typer.Option(
        "auto",
        "--precision",
        help="A learned controller's chunk precision: fp32 | bf16 | auto (the default measured faster "
        "for its config on this machine; fp32 where the CPU has no bf16 units).",
    ),
    realtime: bool = typer.Option(
        False,
        "--realtime",
        help="Tick at a wall-clock 20 Hz with learned controllers inferring in the background, as on "
        "the robot (results then depend on this machine's speed and load; default: in the tick, exact).",
    ),
) -> None:
    """Run closed-loop grasping episodes in sim and print success rates per split."""
    from dexagent.agent.evaluation import report_json, results_table

    config = _eval_config(
        suite, controller, episodes, seed, attempts, (image_size, wrist_size), precision, realtime, workers
    )
    if json_out is not None:
        _check_writable(json_out)
    if report is not None and (report.is_file() or not os.access(_existing_parent(report), os.W_OK)):
        fail(f"--report {report}: give a folder that can be created or written")
    records = _run_with_progress(config, workers, threads)
    chosen = config.suite
    table, extra_json = (
        chosen.report(config, records) if chosen.report else (results_table(config, records), {})
    )
    console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps({**report_json(config, records), **extra_json}, indent=2) + "\n")
        console.print(f"report: {json_out}")
    if report is not None:
        _write_report(config, records, report, extra_json)


def _eval_config(
    suite: str,
    controller: str | None,
    episodes: int,
    seed: int,
    attempts: int,
    requested_sizes: tuple[int | None, int | None],
    precision: str,
    realtime: bool,
    workers: int,
) -> EvalConfig:
    """The evaluation's config, its suite, controller and render sizes (`requested_sizes`: the
    --image-size and --wrist-size asked for) resolved (exit 2 when bad); the precision each
    controller will run at is said."""
    from dexagent.agent.evaluation import EvalConfig, SuiteError, get_suite
    from dexagent.agent.world import ControllerChoices, camera_sizes
    from dexagent.controller.factory import ControllerNotFoundError
    from dexagent.controller.precision import PrecisionError, check_choice

    try:
        chosen = get_suite(suite)
        controller = controller or chosen.default_controller
        controllers = ControllerChoices(controller, (chosen.skill,))
        # The sizes every episode renders at, as `run` and `sim video` would render this controller.
        sizes = camera_sizes(controllers, *requested_sizes)
        chosen_precision = check_choice(precision, "--precision")
        precision_notes = controllers.precision_notes(chosen_precision)
        config = EvalConfig(
            suite=chosen,
            controller=controller,
            episodes=episodes,
            seed=seed,
            attempts=attempts,
            image_size=sizes.head,
            realtime=realtime,
            precision=chosen_precision,
            wrist_size=sizes.wrist,
        )
        if workers < 1:
            raise SuiteError(f"--workers must be at least 1, got {workers}")
    except (SuiteError, ControllerNotFoundError, PrecisionError) as error:
        fail(str(error))
    for note in precision_notes:
        console.print(note)
    return config


def _run_with_progress(config: EvalConfig, workers: int, threads: int) -> list[EpisodeRecord]:
    """Run the suite's episodes with a progress bar (a line per 5% when not on a terminal)."""
    from dexagent.agent.evaluation import run_suite

    episodes = config.episodes
    progress = Progress(
        TextColumn(f"[bold]eval {config.suite.name}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    successes = done = 0
    lines = ProgressLines(console, "episode", episodes)  # the bar is not drawn in a pipe or log

    def advance(record: EpisodeRecord) -> None:
        nonlocal successes, done
        successes += record.success
        done += 1  # records may arrive out of order with --workers
        progress.update(bar, advance=1, rate=f"{successes}/{done} succeeded")
        lines.update(done, f"{successes}/{done} succeeded ({successes / done:.0%})")

    try:
        with progress:
            bar = progress.add_task("episodes", total=episodes, rate="")
            return run_suite(config, workers=workers, on_record=advance, threads=threads)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: no report written")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _write_report(config: EvalConfig, records: list[EpisodeRecord], folder: Path, extra_json: dict) -> None:
    from dexagent.agent.evaluation.html_report import write_html_report  # matplotlib loads only here

    with Progress(
        TextColumn("[bold]report videos[/]"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        task = bar.add_task("videos", total=None)
        page = write_html_report(
            config,
            records,
            folder,
            command=shlex.join(["dexagent", *sys.argv[1:]]),
            extra_json=extra_json,
            on_video=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(f"HTML report: {page}")


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable(path: Path) -> None:
    """Fail before hours of episodes, not after, when the report cannot be written."""
    if path.is_dir():
        fail(f"--json {path} is a folder; give a file path")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        fail(f"--json {path}: the folder {parent} does not exist")
    if not os.access(path if path.exists() else parent, os.W_OK):
        fail(f"--json {path} is not writable (permission denied)")
