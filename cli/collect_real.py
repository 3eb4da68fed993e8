"""`dexagent collect --robot real`: kinesthetic demonstrations, as in the paper, into the same zarr store.

Per episode: the operator names the target and marks its box on the saved head image, guides
the arm through the skill by hand (keys: c closes the hand, o opens it, Enter ends), then the
robot replays the motion with position control while both cameras, the state and the tracked
target mask are recorded. Every tick is spooled to disk as it comes; the operator keeps or
discards the episode explicitly; an episode interrupted by a crash is offered on the next start.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from rich.prompt import Confirm, Prompt

from dexagent.agent.shown_text import shown
from dexagent.cli.errors import console, err_console, fail, fail_device_fault
from dexagent.cli.real_config import load_real_robot_config
from dexagent.controller.data import DemoStore, EpisodeMetadata, StoreError
from dexagent.controller.data.kinesthetic import record_guided, replay_and_record
from dexagent.controller.data.spool import EpisodeSpool
from dexagent.controller.perception import TrackerConfigError, TrackerFactory, tracker_factory
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import Box, HardwareError, Observation, SafeRobot
from dexagent.hardware.errors import FaultStopError
from dexagent.hardware.registry import make_robot
from dexagent.skills.planning import Instruction, Planner


def planner_box(planner: Planner, skill: str, instruction: str, observation: Observation) -> Box:
    """The planner's box around the instruction's target in the head image (`ground`)."""
    target = CONTROLLED_SKILLS.get(skill).target_of(instruction)
    return planner.ground(Instruction(skill=skill, target=target, text=instruction), observation)


def parse_box(text: str, width: int, height: int) -> Box:
    """'x1,y1,x2,y2' in head-image pixels -> Box (ValueError with the reason)."""
    parts = [p for p in text.replace(" ", ",").split(",") if p]
    if len(parts) != 4:
        raise ValueError("a box is four numbers: x1,y1,x2,y2")
    x1, y1, x2, y2 = (float(p) for p in parts)
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise ValueError(f"the box must lie inside the {width}x{height} image with x1<x2 and y1<y2")
    return Box(x1, y1, x2, y2)


@contextlib.contextmanager
def _operator_keys() -> Iterator[dict[str, Any]]:
    """c / o set the hand (closed / open), Enter ends the guided recording (terminal in cbreak mode)."""
    state: dict[str, Any] = {"hand": 1.0, "done": threading.Event()}
    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        raise RuntimeError("guiding the arm needs the operator's terminal (stdin is not a terminal)")
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            if select.select([fd], [], [], 0.05)[0]:
                key = os.read(fd, 1).decode(errors="replace")
                if key == "c":
                    state["hand"] = 0.0
                elif key == "o":
                    state["hand"] = 1.0
                elif key in ("\n", "\r"):
                    state["done"].set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join(timeout=1)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _store_spool(store: DemoStore, spool: EpisodeSpool, skill: str) -> None:
    frames = spool.frames()
    meta = spool.metadata()
    box = tuple(meta.get("target_box", (0.0, 0.0, 1.0, 1.0)))
    instruction = str(meta.get("instruction", ""))
    target = CONTROLLED_SKILLS.get(skill).target_of(instruction) if instruction else "target"
    metadata = EpisodeMetadata(-1, "real", skill, target, "", "", (), instruction, box, frames.steps)  # type: ignore[arg-type]
    store.append_episode(frames, metadata)


def _offer_leftovers(store: DemoStore, spool_root: Path, skill: str) -> None:
    for folder in EpisodeSpool.leftover(spool_root):
        spool = EpisodeSpool(folder)
        what = spool.metadata().get("instruction", "?")
        if spool.ticks and Confirm.ask(
            f"an interrupted episode ({what!r}, {spool.ticks} ticks) was found: keep it?"
        ):
            _store_spool(store, spool, skill)
            console.print(f"[green]kept[/] ({store.num_episodes} episodes in the store)")
        spool.discard()


def run_real_collection(
    out: Path,
    robot_config: Path | None,
    episodes: int,
    skill: str,
    image_size: int,
    tracker: str,
    options: dict[str, Any],
    planner: Planner | None = None,
) -> None:
    """The interactive kinesthetic workflow on the configured robot."""
    config = load_real_robot_config(robot_config, "--robot real")
    try:
        make_tracker: TrackerFactory = tracker_factory(tracker, **options)
    except TrackerConfigError as error:
        fail(f"--tracker {tracker}: {error}")
    try:
        store = DemoStore.create_or_append(
            out, image_size=image_size, control_hz=config.control_hz, joints=len(config.spec().joint_names)
        )
    except StoreError as error:
        fail(str(error))
    spool_root = out.parent / f"{out.name}.spool"
    with store:
        _offer_leftovers(store, spool_root, skill)
        try:
            robot = make_robot(config)
        except FaultStopError as fault:
            fail_device_fault(fault, robot_config)
        except HardwareError as error:
            fail(f"cannot connect the robot: {error}")
        try:
            _episodes(robot, store, spool_root, episodes, skill, image_size, make_tracker, planner)
        except FaultStopError as fault:
            err_console.print(f"kept episodes are safe in {shown(out)}")
            fail_device_fault(fault, robot_config)
        except HardwareError as error:
            err_console.print(
                f"[bold red]the robot stopped:[/] {shown(error)} (kept episodes are safe in {shown(out)})"
            )
        finally:
            robot.close()


def _episodes(
    robot: Any,
    store: DemoStore,
    spool_root: Path,
    episodes: int,
    skill: str,
    size: int,
    make_tracker: TrackerFactory,
    planner: Planner | None,
) -> None:
    kept = 0
    while kept < episodes:
        instruction = Prompt.ask(
            "instruction", default=CONTROLLED_SKILLS.get(skill).instruction_text("the cup")
        )
        robot.home()
        first = robot.observe()
        preview = spool_root.parent / f"{store.path.name}.head.png"
        Image.fromarray(first.head_rgb).save(preview)
        height, width = first.head_rgb.shape[:2]
        suggested = None
        if planner is not None:
            try:
                found = planner_box(planner, skill, instruction, first)
                suggested = ",".join(f"{v:.0f}" for v in found.as_tuple())
            except Exception as error:  # the planner is an outer boundary: say why, let the operator type it
                err_console.print(f"[yellow]the planner found no box: {shown(error)}[/]")
        while True:
            try:
                answer = Prompt.ask(f"target box x1,y1,x2,y2 on {preview}", default=suggested)
                box = parse_box(answer or "", width, height)
                break
            except ValueError as error:
                err_console.print(f"[red]{shown(error)}[/]")
        console.print(
            f"guide the arm through the {skill.replace('_', ' ')}: [bold]c[/] closes the hand, "
            "[bold]o[/] opens it, [bold]Enter[/] ends"
        )
        with _operator_keys() as keys:
            trajectory = record_guided(robot, lambda: np.full(6, keys["hand"]), keys["done"].is_set)
        console.print(f"recorded {len(trajectory)} ticks; replaying with position control while recording...")
        spool = EpisodeSpool(spool_root / f"episode-{store.num_episodes:05d}")
        spool.write_metadata({"instruction": instruction, "target_box": box.as_tuple()})
        replay_and_record(SafeRobot(robot), trajectory, make_tracker(), box, spool, size)
        if Confirm.ask(f"keep this episode ({spool.ticks} ticks)?"):
            _store_spool(store, spool, skill)
            kept += 1
            console.print(f"[green]kept[/] ({store.num_episodes} episodes in the store)")
        else:
            console.print("[yellow]discarded[/]")
        spool.discard()
