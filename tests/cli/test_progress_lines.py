"""Progress lines for logs: one per 5% of the work, none twice, none on a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from dexagent.cli.progress_lines import ProgressLines


def _lines(terminal: bool, total: int, updates: list[int]) -> list[str]:
    out = io.StringIO()
    lines = ProgressLines(Console(file=out, force_terminal=terminal, width=200), "demo", total)
    for done in updates:
        lines.update(done, f"{done} kept")
    return out.getvalue().splitlines()


def test_a_log_gets_a_line_per_5_percent_and_at_the_end_each_once() -> None:
    # 45 demos: a line every 2; a repeated count (an attempt that kept nothing) prints nothing new.
    printed = _lines(False, 45, [1, 2, 2, 3, 4, 4, 44, 45])
    assert [line.split(":")[0] for line in printed] == ["demo 2/45", "demo 4/45", "demo 44/45", "demo 45/45"]
    assert printed[-1].startswith("demo 45/45: 45 kept, ") and printed[-1].endswith("0.0 min left")


def test_a_terminal_gets_no_lines_since_its_bar_says_the_same() -> None:
    assert _lines(True, 4, [1, 2, 3, 4]) == []
