"""Progress for a log: where a command's bar is not drawn (a pipe, a log file, CI), a line per 5%."""

from __future__ import annotations

import time

from rich.console import Console

LINES = 20  # one line per 1/LINES of the work


class ProgressLines:
    """Prints `UNIT n/N: WHAT, S s elapsed, M min left` every 5% of `total` (and at the end) when
    `console` is not a terminal; does nothing on a terminal, where the bar shows the same."""

    def __init__(self, console: Console, unit: str, total: int) -> None:
        self.console, self.unit, self.total = console, unit, total
        self.every = None if console.is_terminal else max(1, total // LINES)
        self.started = time.perf_counter()
        self.printed = 0  # the last `done` printed: an update that did not advance prints nothing

    def update(self, done: int, what: str) -> None:
        """`done` of `total` finished; `what` says how they went (e.g. "3/4 succeeded (75%)")."""
        if self.every is None or done <= self.printed or (done % self.every and done != self.total):
            return
        self.printed = done
        elapsed = time.perf_counter() - self.started
        left = elapsed / done * max(self.total - done, 0)
        self.console.print(
            f"{self.unit} {done}/{self.total}: {what}, {elapsed:.0f} s elapsed, {left / 60:.1f} min left",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
