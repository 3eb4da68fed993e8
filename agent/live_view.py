"""What a run shows: the live tree with node statuses, instruction, target, cadence; the summary table."""

from __future__ import annotations

import io
import time
from types import TracebackType

import py_trees
from py_trees.common import Status
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from dexagent.agent.runner import RunResult, RunState
from dexagent.agent.shown_text import plain, visible
from dexagent.controller.cadence import render_cadence

# Seconds between progress lines when stdout is not a terminal (a log file, a pipe, CI).
LINES_EVERY_S = 10.0

_GLYPH = {
    Status.SUCCESS: ("✓", "green"),
    Status.FAILURE: ("✗", "red"),
    Status.RUNNING: ("●", "yellow"),
    Status.INVALID: ("○", "dim"),
}


def _label(node: py_trees.behaviour.Behaviour) -> Text:
    glyph, style = _GLYPH[node.status]
    label = Text(f"{glyph} ", style=style)
    label.append(visible(node.name), style="bold" if node.status == Status.RUNNING else "")
    # A finished leaf's last feedback ("controlling 3.1/15 s") is stale: only running or failed
    # nodes say more.
    if node.feedback_message and node.status in (Status.RUNNING, Status.FAILURE):
        label.append(f"  {visible(node.feedback_message)}", style="dim")
    return label


def status_tree(root: py_trees.behaviour.Behaviour) -> Tree:
    """The behaviour tree as a rich tree, each node with its status glyph (✓ ✗ ● ○) and feedback."""
    tree = Tree(_label(root), guide_style="dim")

    def add_children(branch: Tree, node: py_trees.behaviour.Behaviour) -> None:
        for child in node.children:
            add_children(branch.add(_label(child)), child)

    add_children(tree, root)
    return tree


def render_state(state: RunState) -> RenderableType:
    """The live view: tree, then the instruction/target line, the last failure, the cadence line."""
    parts: list[RenderableType] = []
    if state.root is not None:
        parts.append(status_tree(state.root))
    info = Text()
    info.append(f"t={state.sim_time:6.2f} s  tick {state.tick}  ", style="dim")
    info.append(f"tree {visible(state.tree_name)}  ", style="cyan")
    info.append(f"instruction: {visible(state.instruction or '-')}  target: {visible(state.target or '-')}  ")
    info.append(f"grasped: {len(state.grasped)}", style="green")
    parts.append(info)
    if state.failure_reason:
        parts.append(Text(f"last failure: {visible(state.failure_reason)}", style="red"))
    parts.append(Text(f"cadence: {state.cadence.line()}", style="dim"))
    return Group(*parts)


def running_leaf(root: py_trees.behaviour.Behaviour | None) -> py_trees.behaviour.Behaviour | None:
    """The deepest RUNNING node under `root` (the skill at work), or None."""
    node = root if root is not None and root.status == Status.RUNNING else None
    while node is not None:
        child = next((c for c in node.children if c.status == Status.RUNNING), None)
        if child is None:
            return node
        node = child
    return None


def progress_line(state: RunState, elapsed_s: float) -> str:
    """One plain line for logs (the live view's place when stdout is not a terminal): ticks, the
    skill at work, the target and the elapsed time."""
    leaf = running_leaf(state.root)
    skill = visible(leaf.name) if leaf is not None else "planning"
    target = f", target {visible(state.target)}" if state.target else ""
    return (
        f"tick {state.tick} (t={state.sim_time:.1f} s sim, {elapsed_s:.0f} s elapsed): {skill}{target}; "
        f"grasped {len(state.grasped)}"
    )


def text_snapshot(state: RunState, width: int = 110) -> str:
    """The live view as plain text (for logs, tests and notes)."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(render_state(state))
    return console.export_text()


class LiveView:
    """A rich Live display refreshed at most `refresh_hz` times per second; when disabled, a
    `progress_line` every `lines_every_s` seconds (the first at the first tick) or nothing (None)."""

    def __init__(
        self,
        console: Console,
        enabled: bool = True,
        refresh_hz: float = 5.0,
        lines_every_s: float | None = None,
    ) -> None:
        self.console = console
        self.enabled = enabled
        self.min_interval = 1.0 / refresh_hz
        self.lines_every_s = lines_every_s
        self._started = time.perf_counter()
        self._next_line = 0.0
        self._last = 0.0
        self._live: Live | None = None
        self.last_state: RunState | None = None

    def __enter__(self) -> LiveView:
        self._started = time.perf_counter()
        if self.enabled:
            self._live = Live(console=self.console, auto_refresh=False, transient=False)
            self._live.__enter__()
        return self

    def update(self, state: RunState) -> None:
        self.last_state = state
        now = time.perf_counter()
        if self._live is None and self.lines_every_s is not None and now >= self._next_line:
            self._next_line = now + self.lines_every_s
            line = progress_line(state, now - self._started)
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        if self._live is None or now - self._last < self.min_interval:
            return
        self._last = now
        self._live.update(render_state(state), refresh=True)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._live is not None:
            if self.last_state is not None:
                self._live.update(render_state(self.last_state), refresh=True)
            self._live.__exit__(kind, error, trace)
            self._live = None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def scene_line(seed: int, split: str, object_names: list[str]) -> Table:
    """`scene seed 3 (seen):` and the objects, which wrap in their own column, never mid-name."""
    line = Table.grid(padding=(0, 1))
    line.add_column(style="dim", no_wrap=True)
    line.add_column(style="dim")
    line.add_row(f"scene seed {seed} ({plain(split)}):", plain(", ".join(object_names)))
    return line


def summary_table(result: RunResult) -> Table:
    """The end-of-run summary: outcome, tree, controller, grasps, attempts, planner calls, time, cadence.

    Prompt, reason, names and targets are shown as plain text: brackets in them are never markup."""
    table = Table(title=plain(f"dexagent run: {result.prompt!r}"), show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    outcome = Text("completed", style="green") if result.completed else Text("not completed", style="red")
    table.add_row("outcome", Text.assemble(outcome, ": ", plain(result.reason)))
    table.add_row("tree", plain(result.tree_name or "-"))
    table.add_row("controller", plain(result.controller or "-"))
    grasped = ", ".join(result.grasped) if result.grasped else "none"
    table.add_row("objects grasped", plain(f"{len(result.grasped)} ({grasped})"))
    table.add_row("put in the bin", str(len(result.put_away)))
    table.add_row("grasp attempts", f"{result.attempts} ({result.successful_attempts} succeeded)")
    table.add_row("recoveries used", str(result.recoveries))
    calls = sum(int(s["calls"]) for s in result.planner.values())
    lines = [
        f"{stage}: {_count(int(s['calls']), 'call')}, mean {s['mean_s'] * 1e3:.1f} ms, "
        f"worst {s['worst_s'] * 1e3:.1f} ms" + (f", {int(s['failed'])} failed" if s["failed"] else "")
        for stage, s in result.planner.items()
    ]
    table.add_row("planner calls", plain(f"{calls}" + ("\n" + "\n".join(lines) if lines else "")))
    table.add_row(
        "time", f"{result.sim_seconds:.1f} s sim, {result.wall_seconds:.1f} s wall, {result.ticks} ticks"
    )
    if not result.cadence["ticks"]:
        return table  # the run ended before the first tick: there is no cadence to report
    table.add_row("cadence", _cadence_cell(result.cadence))
    return table


def _cadence_cell(cadence: dict) -> RenderableType:
    """The cadence headline, then the stage timings as aligned columns: at 80 columns the one-line
    text form (`render_cadence`) wraps each stage in two."""
    headline = plain(render_cadence({**cadence, "stages_ms": {}}))
    stages = Table(box=None, padding=(0, 2, 0, 0), show_edge=False, header_style="dim")
    for column in ("stage (ms)", "mean", "p50", "p95", "worst", "n"):
        stages.add_column(column, justify="left" if column == "stage (ms)" else "right", no_wrap=True)
    for name, figures in cadence["stages_ms"].items():
        numbers = [f"{figures[key]:.1f}" for key in ("mean", "p50", "p95", "worst")]
        stages.add_row(plain(name), *numbers, str(int(figures["count"])))
    return Group(headline, stages) if cadence["stages_ms"] else headline
