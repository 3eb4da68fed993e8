"""`dexagent calibrate check --robot-config FILE`: what differs between your robot and the sim embodiment.

The shipped controllers learned in the sim: joint ranges, the home pose, the head camera's
pose and optics are theirs. This prints each difference with a verdict; exit 0 when nothing
is far off, 1 when something is (retrain, or fine-tune on demonstrations from your robot).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_FAILED, console

calibrate_app = typer.Typer(help="Compare your robot with the sim embodiment the controllers learned on.")
app.add_typer(calibrate_app, name="calibrate")

_COLOURS = {"ok": "green", "differs": "yellow", "far": "red"}


@calibrate_app.command("check")
def check(
    robot_config: Path = typer.Option(..., "--robot-config", help="The real robot's YAML file."),
    show_all: bool = typer.Option(False, "--all", help="Also list what matches."),
) -> None:
    """List joint-range, home-pose and camera differences from the sim; exit 1 when one is far off."""
    from dexagent.cli.real_config import load_real_robot_config
    from dexagent.hardware.real.calibration import compare_to_sim

    config = load_real_robot_config(robot_config, "calibrate check")
    rows = compare_to_sim(config)
    table = Table(title=f"{robot_config} against the sim embodiment")
    for column in ("what", "sim", "yours", "verdict"):
        table.add_column(column)
    for row in rows:
        if show_all or row.verdict != "ok":
            table.add_row(row.what, row.sim, row.real, f"[{_COLOURS[row.verdict]}]{row.verdict}[/]")
    console.print(table)
    far = [row.what for row in rows if row.verdict == "far"]
    if far:
        console.print(
            f"[red]far from the sim:[/] {', '.join(far)}: expect the shipped controllers to fail there"
        )
        raise typer.Exit(EXIT_FAILED)
    console.print("[green]close enough to the sim for the shipped controllers to be tried[/]")
