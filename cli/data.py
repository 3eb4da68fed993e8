"""`dexagent data`: inspect demonstration stores; export to and import from LeRobot v3 and the
official DexGraspVLA zarr layout."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dexagent.cli.app import app
from dexagent.cli.errors import console, fail
from dexagent.hardware.sim.scene_spec import CameraSizes

# The stores' libraries (zarr, video codecs, MuJoCo for re-texturing) load inside the commands,
# so `dexagent --help` stays fast.
if TYPE_CHECKING:
    from dexagent.controller.data import DemoStore
    from dexagent.controller.data.lerobot_import import ImportSummary

FORMATS = ("lerobot", "dexgraspvla")
data_app = typer.Typer(
    help="Demonstration stores: what they hold; export to / import from LeRobot v3 and DexGraspVLA.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def _progress(verb: str, total: int) -> tuple[Progress, Callable[[int], None]]:
    progress = Progress(
        TextColumn(f"[bold]{verb}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    bar = progress.add_task("episodes", total=total)
    return progress, lambda _episode: progress.update(bar, advance=1)


def _open(store: Path) -> DemoStore:
    from dexagent.controller.data import DemoStore, StoreError

    try:
        return DemoStore.open(store)
    except StoreError as error:
        fail(str(error))


@data_app.command("info")
def info(
    store: Path = typer.Argument(..., help="A demonstration store (from dexagent collect or data import)."),
    sheet: Path | None = typer.Option(None, "--sheet", help="Also write a thumbnail sheet (PNG) here."),
    episodes: int = typer.Option(6, "--episodes", "-n", help="Episodes on the thumbnail sheet."),
    verify: bool = typer.Option(
        True, help="Decode every chunk, so a store copied half way is found now (--no-verify: faster)."
    ),
) -> None:
    """Episodes, frames, cameras, sizes, splits and skills of STORE; optionally a thumbnail sheet.

    Exit 2 when the store cannot be read or a chunk does not decode (the array and frames are named).
    """
    from dexagent.controller.data import StoreError
    from dexagent.controller.data.info import summarise_store
    from dexagent.controller.data.integrity import verify_store
    from dexagent.controller.data.thumbnails import thumbnail_sheet

    opened = _open(store)
    try:
        checked = verify_store(opened) if verify else 0
        summary = summarise_store(opened)
    except StoreError as error:
        fail(str(error))
    console.print(f"[bold]{summary.path}[/]")
    console.print(
        f"{summary.episodes} episodes, {summary.frames} frames ({summary.seconds / 60:.1f} min at "
        f"{summary.control_hz:g} Hz); steps per episode {summary.steps_min} / {summary.steps_mean:.0f} / "
        f"{summary.steps_max} (min / mean / max)"
    )
    size, wrist = summary.image_size, summary.wrist_size
    console.print(
        f"cameras: head {size}x{size} RGB + target mask, wrist {wrist}x{wrist} RGB; "
        f"{summary.joints}-D state and action (one value per joint)"
    )
    table = Table(title=f"{_megabytes(summary.bytes_on_disk)} on disk", title_justify="left")
    table.add_column("array")
    table.add_column("stored", justify="right")
    table.add_column("raw", justify="right")
    table.add_column("ratio", justify="right")
    for key, (stored, raw) in summary.bytes_per_array.items():
        table.add_row(key, _megabytes(stored), _megabytes(raw), f"{raw / stored:.0f}x" if stored else "-")
    console.print(table)
    for title, counts in (
        ("splits", summary.splits),
        ("skills", summary.skills),
        ("targets", summary.targets),
    ):
        console.print(f"{title}: " + (", ".join(f"{name} {count}" for name, count in counts.items()) or "-"))
    console.print(f"instructions: {summary.instructions} distinct")
    rounds = [f"{name}: {n} ({grasped} grasped)" for name, (n, grasped) in summary.rounds.items()]
    console.print("rounds: " + ("; ".join(rounds) or "-"), markup=False)
    if verify:
        console.print(f"every chunk decodes ({checked} data chunks read)")
    if sheet is not None:
        try:
            shown = thumbnail_sheet(opened, sheet, episodes)
        except (StoreError, OSError) as error:
            fail(f"cannot write the thumbnail sheet {sheet}: {error}")
        console.print(f"thumbnail sheet: {sheet} (episodes {', '.join(map(str, shown))})")


def _check_format(format_name: str) -> None:
    if format_name not in FORMATS:
        fail(f"unknown --format {format_name!r}; valid formats: {', '.join(FORMATS)}")


def _out_path(positional: Path | None, option: Path | None) -> Path:  # type: ignore[return]
    """OUT given once, as the second argument or as --out (as `collect` and `train` take it)."""
    if positional is not None and option is not None and positional != option:
        fail(f"two output paths: {positional} and --out {option}; give one")
    if positional is None and option is None:
        fail("missing the output path: give it as the second argument or as --out")
    return positional or option  # type: ignore[return-value]


@data_app.command("export")
def export(
    store: Path = typer.Argument(..., help="The demonstration store to export."),
    out_argument: Path | None = typer.Argument(
        None, metavar="OUT", help="A new folder (lerobot) or zarr path (dexgraspvla); or use --out."
    ),
    out_option: Path | None = typer.Option(None, "--out", help="The same as OUT."),
    format_name: str = typer.Option("lerobot", "--format", help="lerobot (LeRobot v3.0) | dexgraspvla"),
    codec: str | None = typer.Option(None, help="lerobot: video codec (default libsvtav1, LeRobot's)."),
    crf: int = typer.Option(30, help="lerobot: video quality, lower is better and larger (LeRobot's 30)."),
    table_masks: bool = typer.Option(True, help="Include the sim's table masks (for re-texturing)."),
) -> None:
    """Write STORE as a LeRobot v3 dataset or in the official DexGraspVLA zarr layout."""
    from dexagent.controller.data import StoreError
    from dexagent.controller.data.dexgraspvla_format import export_dexgraspvla
    from dexagent.controller.data.lerobot_export import export_lerobot

    out = _out_path(out_argument, out_option)
    _check_format(format_name)
    opened = _open(store)
    progress, advance = _progress(f"export {format_name}", opened.num_episodes)
    started = time.perf_counter()
    try:
        with progress:
            if format_name == "lerobot":
                summary = export_lerobot(
                    opened, out, codec=codec, crf=crf, table_masks=table_masks, on_episode=advance
                )
                written, detail = summary.bytes_written, f"{summary.tasks} tasks, videos {summary.codec}"
            else:
                written = export_dexgraspvla(opened, out, table_masks=table_masks, on_episode=advance)
                detail = "zarr format 2"
    except StoreError as error:
        fail(str(error))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: nothing written")
        raise typer.Exit(130) from None
    console.print(
        f"exported {opened.num_episodes} episodes, {opened.num_frames} frames to {out} ({format_name}, "
        f"{detail}): {_megabytes(written)} in {time.perf_counter() - started:.1f} s"
    )


def _feature_map(entries: list[str]) -> dict[str, str]:
    from dexagent.controller.data.lerobot_layout import FEATURE_OF_ARRAY

    mapping = {}
    for entry in entries:
        array, sep, feature = entry.partition("=")
        if not sep or array not in FEATURE_OF_ARRAY or not feature:
            fail(f"--feature {entry!r}: write ARRAY=FEATURE with ARRAY one of {', '.join(FEATURE_OF_ARRAY)}")
        mapping[array] = feature
    return mapping


def _detect(source: Path) -> str:  # type: ignore[return]  # fail() never returns
    if (source / "meta" / "info.json").is_file():
        return "lerobot"
    if (source / "data" / "rgbm").exists():
        return "dexgraspvla"
    fail(f"{source} is neither a LeRobot v3 dataset (meta/info.json) nor a DexGraspVLA store (data/rgbm)")


@data_app.command("import")
def import_(
    source: Path = typer.Argument(..., help="A LeRobot v3 dataset folder or an official DexGraspVLA zarr."),
    out_argument: Path | None = typer.Argument(
        None, metavar="OUT", help="Our store to create (or append to); or use --out."
    ),
    out_option: Path | None = typer.Option(None, "--out", help="The same as OUT."),
    format_name: str = typer.Option("auto", "--format", help="auto | lerobot | dexgraspvla"),
    feature: list[str] = typer.Option(
        [], help="lerobot: map a store array to a dataset feature, e.g. head_rgb=observation.images.top."
    ),
    image_size: int | None = typer.Option(
        None, "--image-size", help="Centre-crop to square and resize images to this size (default: keep)."
    ),
) -> None:
    """Read a LeRobot v3 dataset or an official DexGraspVLA store into a demonstration store."""
    from dexagent.controller.data import StoreError
    from dexagent.controller.data.dexgraspvla_format import import_dexgraspvla
    from dexagent.controller.data.lerobot_import import import_lerobot

    out = _out_path(out_argument, out_option)
    format_name = _detect(source) if format_name == "auto" else format_name
    _check_format(format_name)
    mapping = _feature_map(feature)
    if mapping and format_name != "lerobot":
        fail("--feature applies to LeRobot datasets only")
    if image_size is not None and not 16 <= image_size <= 1024:
        fail(f"--image-size must be in 16..1024, got {image_size}")
    started = time.perf_counter()
    progress = Progress(TextColumn(f"[bold]import {format_name}[/]"), TimeElapsedColumn(), console=console)
    summary: ImportSummary
    try:
        with progress:
            progress.add_task("episodes", total=None)
            if format_name == "lerobot":
                summary = import_lerobot(source, out, feature_names=mapping, image_size=image_size)
            else:
                summary = import_dexgraspvla(source, out, image_size=image_size)
    except StoreError as error:
        fail(str(error))
    console.print(
        f"imported {summary.episodes} episodes, {summary.frames} frames "
        f"({CameraSizes(summary.image_size, summary.wrist_size).shown()}) into {out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    if summary.missing_optional:
        console.print(f"not in the source, written empty: {', '.join(summary.missing_optional)}")
