"""Success-rate bar charts for the HTML report (matplotlib, rendered to SVG text).

matplotlib is a dependency of dexagent, imported only when a report is written; if an install
lacks it, the report says how to repair it instead of failing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

SUCCESS = "#2e7d32"
FAILURE = "#c62828"


class ChartsUnavailable(RuntimeError):
    """matplotlib cannot be imported (a broken install: it is one of dexagent's dependencies)."""


@dataclass(frozen=True)
class Group:
    name: str
    episodes: int
    successes: int

    @property
    def rate(self) -> float:
        return self.successes / self.episodes if self.episodes else 0.0


def group_by(items: Iterable[T], key: Callable[[T], str], succeeded: Callable[[T], bool]) -> list[Group]:
    """Success counts per key value, most episodes first (ties by name)."""
    totals: dict[str, list[int]] = {}
    for item in items:
        counts = totals.setdefault(key(item), [0, 0])
        counts[0] += 1
        counts[1] += succeeded(item)
    groups = [Group(name, n, s) for name, (n, s) in totals.items()]
    return sorted(groups, key=lambda g: (-g.episodes, g.name))


def bar_chart_svg(title: str, groups: list[Group]) -> str:
    """A horizontal bar chart of success rate per group, labelled `successes/episodes`, as SVG text."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        raise ChartsUnavailable(
            "charts need matplotlib, a dependency of dexagent that cannot be imported here: "
            "pip install 'matplotlib>=3.8'"
        ) from None
    height = 0.9 + 0.32 * len(groups)
    figure, axes = plt.subplots(figsize=(5.6, height), dpi=100)
    try:
        names = [g.name for g in groups][::-1]
        rates = [100 * g.rate for g in groups][::-1]
        axes.barh(names, [100] * len(groups), color=FAILURE, alpha=0.18, height=0.62)
        axes.barh(names, rates, color=SUCCESS, height=0.62)
        for position, group in enumerate(groups[::-1]):
            axes.text(101, position, f"{group.successes}/{group.episodes}", va="center", fontsize=8)
        axes.set_xlim(0, 112)
        axes.set_xticks([0, 25, 50, 75, 100])
        axes.set_xlabel("success %", fontsize=8)
        axes.set_title(title, fontsize=10, loc="left")
        axes.tick_params(labelsize=8)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
    finally:
        plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype: the SVG goes inline into HTML
