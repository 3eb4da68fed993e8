"""How long loading, building and ticking the bundled trees take (the tree machinery, not the skills).

Skills are replaced by py_trees' `SuccessEveryN` (same names and parameter models as the real
ones), so the figures are the cost the tree layer adds to each 20 Hz control tick.

    python benchmarks/bench_trees.py
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import py_trees

from dexagent.skills.planning import Instruction
from dexagent.skills.registry import REGISTRY, SkillInfo, SkillRegistry
from dexagent.trees import bundled_names, load_tree
from dexagent.trees.builder import build_behaviour


def stand_in_registry() -> SkillRegistry:
    """The real skills' names and parameters; each leaf succeeds every 3rd tick and runs otherwise."""
    registry = SkillRegistry()
    for info in REGISTRY:

        def factory(name: str, raw: Mapping[str, Any], context: Any) -> py_trees.behaviour.Behaviour:
            return py_trees.behaviours.SuccessEveryN(name, n=3)

        registry.register(SkillInfo(info.name, info.description, info.kind, info.params, factory))
    return registry


def main() -> None:
    registry = stand_in_registry()
    plan = [Instruction(target=f"object {i}", text=f"grasp object {i}") for i in range(6)]
    py_trees.blackboard.Blackboard.set("/instructions", plan)
    py_trees.blackboard.Blackboard.set("/instruction", plan[0])
    header = ("tree", "load ms", "build ms", "nodes", "tick us mean", "tick us p99", "tick us max")
    print(f"{header[0]:22s}" + "".join(f"{column:>14s}" for column in header[1:]))
    for name in bundled_names():
        start = time.perf_counter()
        for _ in range(20):
            document = load_tree(name, registry)
        load_ms = (time.perf_counter() - start) / 20 * 1e3
        start = time.perf_counter()
        for _ in range(20):
            root = build_behaviour(document, None, registry)  # type: ignore[arg-type]
        build_ms = (time.perf_counter() - start) / 20 * 1e3
        nodes = sum(1 for _ in root.iterate())
        durations = []
        for _ in range(2000):
            start = time.perf_counter()
            root.tick_once()
            durations.append(time.perf_counter() - start)
        durations.sort()
        mean_us = sum(durations) / len(durations) * 1e6
        p99_us, max_us = durations[int(0.99 * len(durations))] * 1e6, durations[-1] * 1e6
        figures = (f"{load_ms:.2f}", f"{build_ms:.2f}", str(nodes))
        figures += (f"{mean_us:.1f}", f"{p99_us:.1f}", f"{max_us:.1f}")
        print(f"{name:22s}" + "".join(f"{figure:>14s}" for figure in figures))


if __name__ == "__main__":
    main()
