"""`dexagent doctor`: what works on this machine, and whether the chosen configuration can run.

Exit 0: everything the configuration needs works (the sim by default; with --robot-config, the
real robot's devices and drivers; with --planner-url, the VLM endpoint). Exit 1: something it
needs does not (the table says what and why). Exit 2: bad input (e.g. an invalid config file).
Every check is bounded by --timeout: a silent device never hangs the doctor. The doctor only
reads: it never moves the robot or writes a device setting. The one exception is asked for by
name: `--clear-hand-errors` clears the hand's error bits (after the operator has looked at the
hand), then the checks run as usual.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from dexagent.cli.app import app
from dexagent.cli.errors import EXIT_FAILED, console, fail
from dexagent.controller.perception.registry import TRACKERS

if TYPE_CHECKING:  # the checks load when the doctor runs, so `dexagent --help` stays fast
    from dexagent.cli.doctor_checks import Check
    from dexagent.hardware.real.config import RealRobotConfig


def _robot_checks(config: RealRobotConfig, timeout_s: float, clear_hand_errors: bool) -> list[Check]:
    from dexagent.cli.doctor_checks import Check
    from dexagent.hardware.real import probe

    devices = [probe.clear_hand_errors(config, timeout_s)] if clear_hand_errors else []
    devices += [
        probe.check_arm(config, timeout_s),
        probe.check_hand(config, timeout_s),
        *probe.check_cameras(config, timeout_s),
    ]
    return [Check("robot", d.name, d.ok, d.detail) for d in devices]


def _table(checks: list[Check]) -> Table:
    table = Table(title="dexagent doctor", show_lines=False)
    table.add_column("area", style="dim")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for check in checks:
        status = "[green]ok[/]" if check.ok else "[red]FAIL[/]" if check.required else "[yellow]missing[/]"
        table.add_row(check.area, check.name, status, escape(check.detail))
    return table


@app.command("doctor")
def doctor(
    robot_config: Path | None = typer.Option(
        None, "--robot-config", help="Also check every device of this robot config (reachable, status)."
    ),
    planner_url: str | None = typer.Option(
        None, help="Also check this OpenAI-compatible VLM endpoint (or OPENAI_BASE_URL)."
    ),
    tracker: str | None = typer.Option(
        None,
        help=f"Also check this mask tracker: {TRACKERS.choices()} (a real-robot run's; with "
        "--robot-config, default sam2).",
    ),
    tracker_option: list[str] = typer.Option([], "--tracker-option", help="Its options, KEY=VALUE."),
    timeout: float = typer.Option(2.0, help="Seconds any one device or server may take to answer."),
    clear_hand_errors: bool = typer.Option(
        False,
        "--clear-hand-errors",
        help="With --robot-config: clear the hand's error bits (over-current, stall, ...) after you "
        "have looked at the hand; the only thing the doctor ever writes to a device.",
    ),
) -> None:
    """Check Python, torch/GPU, MuJoCo rendering, optional packages, weights, devices and the VLM.

    Only reads: nothing moves, no device setting is written (but --clear-hand-errors, when asked).
    Exit 0 ready, 1 something needed is missing, 2 bad input.
    """
    from dexagent.cli.doctor_checks import (
        REAL_PACKAGES,
        Check,
        mujoco_check,
        package_checks,
        planner_check,
        system_checks,
        weight_checks,
    )
    from dexagent.cli.run_real import parse_options
    from dexagent.cli.tracker_check import tracker_check
    from dexagent.hardware.config_file import RobotConfigFileError, load_robot_config
    from dexagent.hardware.real.config import RealRobotConfig

    if not math.isfinite(timeout) or not 0 < timeout <= 600:
        fail(f"--timeout must be a number of seconds in (0, 600], got {timeout}")
    real: RealRobotConfig | None = None
    if robot_config is not None:
        try:
            loaded = load_robot_config(robot_config)
        except RobotConfigFileError as error:
            fail(str(error))
        if isinstance(loaded, RealRobotConfig):
            real = loaded
    if clear_hand_errors and real is None:
        fail("--clear-hand-errors needs --robot-config FILE of a real robot (`type: real`)")
    checks = system_checks()
    rendering = mujoco_check(max(timeout, 20.0))  # a first EGL start-up can take seconds
    # The real robot does not render: a machine without EGL can still drive it.
    checks.append(rendering if real is None else Check(**{**rendering.__dict__, "required": False}))
    checks += package_checks(REAL_PACKAGES if real is not None else ())
    checks += weight_checks()
    options = parse_options(tracker_option, "--tracker-option")
    # Only a tracker someone asked for (or the real robot needs) gets a row: a sim user who never
    # named sam2 must not see its missing checkpoint as a failure.
    if tracker is not None or options or real is not None:
        checks.append(tracker_check(tracker or "sam2", options, required=real is not None))
    url = planner_url or os.environ.get("OPENAI_BASE_URL")
    if url:
        checks.append(planner_check(url, timeout))
    if real is not None:
        checks += _robot_checks(real, timeout, clear_hand_errors)
    console.print(_table(checks))
    blocking = [c for c in checks if c.required and not c.ok]
    target = f"the real robot in {robot_config}" if real is not None else "the simulation"
    if blocking:
        console.print(f"[red]{target} cannot run:[/] {', '.join(escape(c.name) for c in blocking)}")
        raise typer.Exit(EXIT_FAILED)
    console.print(f"[green]{target} can run on this machine[/]")
