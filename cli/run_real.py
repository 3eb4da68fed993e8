"""`dexagent run --robot real --robot-config robot.yaml`: the agent on a robot without a simulator.

`real` is the arm, hand and cameras; any other registered robot type (not `sim`) runs here too,
built by its registry entry from its config file.

Bad input (config file, planner, tracker and its weights, controller checkpoint) fails before
any device is connected (exit 2); a device that does not answer fails before anything moves
(exit 2). While the run ticks, the configured signal (default SIGUSR1) or key (default space)
is the emergency stop: the arm stops at once and holds; the run ends and says so. A hand that
reports error bits (at connect or mid-run) stops the arm within one control period; the run
ends with exit 3 naming the finger and the error, and the operator clears the bits with
`dexagent doctor --robot-config FILE --clear-hand-errors` after looking at the hand.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import typer

from dexagent.agent.episode_log import EpisodeLog
from dexagent.agent.live_view import LINES_EVERY_S, LiveView, summary_table
from dexagent.agent.planner import PlannerError, build_planner
from dexagent.agent.planner.errors import (
    PlannerConfigError,
    PlannerUnreachableError,
    PromptNotUnderstoodError,
)
from dexagent.agent.runner import AgentRun, RunConfig, RunResult
from dexagent.agent.shown_text import shown
from dexagent.agent.world import ControllerChoices, WorldError, robot_world
from dexagent.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, console, fail, fail_device_fault
from dexagent.cli.real_config import load_robot_config_of_type
from dexagent.cli.stop_signals import interrupt_at_once, stop_signals
from dexagent.cli.tracker_check import tracker_check
from dexagent.controller.perception import TrackerConfigError, TrackerFactory, tracker_factory
from dexagent.controller.precision import PrecisionChoice
from dexagent.hardware import HardwareError, Robot
from dexagent.hardware.errors import EmergencyStopError, FaultStopError
from dexagent.hardware.real.estop import key_estop, signal_estop
from dexagent.hardware.registry import make_robot


def parse_options(pairs: list[str], flag: str) -> dict[str, Any]:
    """KEY=VALUE pairs (numbers and true/false parsed) into a dict; a bad pair exits 2."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"{flag} {pair!r}: expected KEY=VALUE")
        parsed: Any = value
        if value.lower() in ("true", "false"):
            parsed = value.lower() == "true"
        else:
            for kind in (int, float):
                try:
                    parsed = kind(value)
                    break
                except ValueError:
                    continue
        options[key] = parsed
    return options


def run_on_real_robot(
    prompt: str,
    *,
    robot: str = "real",
    robot_config: Path | None,
    planner: str,
    planner_options: dict[str, Any],
    controllers: ControllerChoices,
    tracker: str,
    tracker_options: dict[str, Any],
    tree: str | None,
    log: Path | None,
    max_seconds: float,
    live: bool,
    precision: PrecisionChoice = "auto",
) -> None:
    """Build the robot of type `robot` from its config file and run the agent on it."""
    config = load_robot_config_of_type(robot_config, robot, f"--robot {robot}")
    make_tracker = _usable_tracker(tracker, tracker_options)
    try:
        the_planner = build_planner(planner, None, **planner_options)
    except (PlannerUnreachableError, PlannerConfigError, PlannerError) as error:
        fail(f"planner {planner}: {error}")
    try:
        the_robot = make_robot(config)
    except FaultStopError as fault:
        fail_device_fault(fault, robot_config)
    except HardwareError as error:
        fail(f"cannot connect the robot: {error}")
    stop_now = _emergency_stop_of(the_robot, config.type)
    run_config = RunConfig(
        prompt=prompt,
        tree=tree,
        max_seconds=max_seconds,
        control_hz=the_robot.spec.control_hz,
        realtime=True,
        success_check="verifier",
    )
    episode_log = EpisodeLog(log)
    lines_every_s = None if console.is_terminal else LINES_EVERY_S  # a pipe or log: progress lines
    view = LiveView(console, enabled=live and console.is_terminal, lines_every_s=lines_every_s)
    # Real-robot features that another robot type may lack: a bin to drop into, an emergency stop.
    poses = getattr(config, "poses", None)
    drop = config.pose("bin") if poses is not None and poses.bin is not None else None  # type: ignore[attr-defined]
    try:
        world = robot_world(
            the_robot, the_planner, controllers, make_tracker, drop_pose=drop, precision=precision
        )
    except WorldError as error:
        the_robot.close()
        fail(str(error))
    agent = world.agent_run(run_config, log=episode_log, on_tick=view.update)
    episode_log.write(
        "setup", {"robot": robot, "config": str(robot_config), "planner": planner, "tracker": tracker}
    )
    try:
        result = _home_and_run(agent, the_robot, stop_now, config, view)
    except (KeyboardInterrupt, EmergencyStopError) as stop:
        what = f"stopped by the operator ({stop})" if isinstance(stop, KeyboardInterrupt) else str(stop)
        console.print(f"[yellow]{shown(what)}; the arm holds where it stopped")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (PlannerUnreachableError, PlannerConfigError) as error:
        fail(f"planner: {error}")
    except FaultStopError as fault:
        fail_device_fault(fault, robot_config)
    except PromptNotUnderstoodError as error:
        fail(str(error))
    except HardwareError as error:
        fail(f"the robot stopped before the run: {error}")
    finally:
        episode_log.close()
        world.close()
    console.print(summary_table(result))  # the reason is in its outcome row, said once
    latched = getattr(the_robot, "fault", None)
    if isinstance(latched, FaultStopError):
        fail_device_fault(latched, robot_config)
    if result.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    if not result.completed:
        raise typer.Exit(EXIT_FAILED)


def _usable_tracker(tracker: str, tracker_options: dict[str, Any]) -> TrackerFactory:
    """The mask tracker's factory, its options and weights checked before any device connects."""
    try:
        make_tracker = tracker_factory(tracker, **tracker_options)
    except TrackerConfigError as error:
        fail(f"--tracker {tracker}: {error}")
    usable = tracker_check(tracker, tracker_options, required=True)
    if not usable.ok:  # found now, not on the first grasp after the arm has moved
        fail(f"--tracker {tracker}: {usable.detail}")
    return make_tracker


def _emergency_stop_of(the_robot: Robot, robot_type: str) -> Callable[[str], None]:
    """The robot's `emergency_stop(reason)`; a robot without one is closed and refused (exit 2)."""
    # The e-stop handlers call it from a signal: a robot without one is refused before it moves
    # (a check that `python -O` would strip is no check).
    found: Any = getattr(the_robot, "emergency_stop", None)
    if not callable(found):
        the_robot.close()
        fail(f"robot type {robot_type!r} has no emergency_stop(reason); a real run needs one")
    stop_now: Callable[[str], None] = found
    return stop_now


def _home_and_run(
    agent: AgentRun, the_robot: Robot, stop_now: Callable[[str], None], config: Any, view: LiveView
) -> RunResult:
    """Home the robot and run the agent, with the config's emergency stop (signal and key) armed
    throughout where it has one: `stop_now` stops the robot, the run ends. A stop while homing stops
    the arm where it is; one in the loop stops safely at the next tick."""
    safety = getattr(config, "safety", None)

    def emergency_stop(reason: str) -> None:
        stop_now(reason)
        agent.request_stop(reason)

    if safety is not None:
        console.print(f"[dim]emergency stop: {shown(safety.estop_key or 'no')} key, {safety.estop_signal}[/]")
    with ExitStack() as stack:
        if safety is not None:
            stack.enter_context(signal_estop(safety.estop_signal, emergency_stop))
            stack.enter_context(key_estop(safety.estop_key, emergency_stop))
        with interrupt_at_once():  # Ctrl-C / SIGTERM while homing: the arm stops where it is
            the_robot.home()
        stack.enter_context(stop_signals(agent))  # in the loop: a safe stop at the next tick
        stack.enter_context(view)
        return agent.run()
