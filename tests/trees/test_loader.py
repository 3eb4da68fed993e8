"""What the YAML format means: every node type, options, references, subtrees and includes."""

from __future__ import annotations

from pathlib import Path

import py_trees
import pytest
from py_trees.common import Status
from stand_ins import F, S, Script, scripted_registry, tick_until_done

from dexagent.skills.params import BlackboardRef
from dexagent.trees import model as m
from dexagent.trees.builder import build_behaviour
from dexagent.trees.composites import Recovery, RoundRobin
from dexagent.trees.decorators import ForEach, Repeat, Timeout
from dexagent.trees.errors import UnknownTreeError
from dexagent.trees.loader import load_tree, load_tree_text

EVERY_NODE_TYPE = """
description: one of everything
tree:
  name: root
  sequence:
    - selector:
        - holding: {target: cup}
        - grasp: {target: "{target}", budget_s: 12}
      memory: false
    - parallel:
        - target_visible: {target: cup}
        - reset:
      policy: success_on_one
    - round_robin: [{grasp: {target: a}}, {grasp: {target: b}}]
    - recovery:
        try: {grasp: {target: cup}}
        recover: {reset: {drop: false}}
      retries: 3
    - retry: {grasp: {target: cup}}
      attempts: 2
    - timeout: {reset: {}}
      seconds: 1.5
    - inverter: {holding: {}}
    - repeat: {reset: {}}
      times: 2
    - repeat: {reset: {}}
      until: failure
    - for_each: {grasp: {target: "{item}"}}
      items: [cup, can]
      as: item
      on_failure: continue
    - subtree: finish
subtrees:
  finish:
    name: finish
    reset: {}
"""


def test_every_node_type_loads_with_its_options() -> None:
    document = load_tree_text(EVERY_NODE_TYPE, path="every.yaml")
    root = document.root
    assert (
        isinstance(root, m.SequenceNode)
        and root.name == "root"
        and root.at == m.Location(file="every.yaml", line=5)
    )
    selector, parallel, robin, recovery, retry, timeout, inverter, times, until, loop, sub = root.children
    assert isinstance(selector, m.SelectorNode) and selector.memory is False
    grasp = selector.children[1]
    assert isinstance(grasp, m.SkillNode) and grasp.params == {
        "target": BlackboardRef("target"),
        "budget_s": 12,
    }
    assert isinstance(parallel, m.ParallelNode) and parallel.policy == "success_on_one"
    assert isinstance(parallel.children[1], m.SkillNode) and parallel.children[1].params == {}
    assert isinstance(robin, m.RoundRobinNode) and len(robin.children) == 2
    assert isinstance(recovery, m.RecoveryNode) and recovery.retries == 3
    assert isinstance(retry, m.RetryNode) and retry.attempts == 2
    assert isinstance(timeout, m.TimeoutNode) and timeout.seconds == 1.5
    assert isinstance(inverter, m.InverterNode)
    assert isinstance(times, m.RepeatNode) and times.times == 2 and times.until is None
    assert isinstance(until, m.RepeatNode) and until.until == "failure"
    assert isinstance(loop, m.ForEachNode) and loop.items == ("cup", "can") and loop.as_key == "item"
    assert loop.on_failure == "continue"
    assert isinstance(sub, m.SubtreeNode) and document.subtrees["finish"].name == "finish"


def test_every_node_type_builds_into_the_matching_behaviour() -> None:
    registry = scripted_registry(Script())
    root = build_behaviour(load_tree_text(EVERY_NODE_TYPE, registry), context=None, registry=registry)  # type: ignore[arg-type]
    kinds = [type(child) for child in root.children]
    assert kinds == [
        py_trees.composites.Selector,
        py_trees.composites.Parallel,
        RoundRobin,
        Recovery,
        py_trees.decorators.Retry,
        Timeout,
        py_trees.decorators.Inverter,
        Repeat,
        Repeat,
        ForEach,
        py_trees.decorators.PassThrough,
    ]
    assert root.children[0].memory is False  # type: ignore[attr-defined]
    assert root.children[4].num_failures == 2  # type: ignore[attr-defined]
    assert root.children[-1].name == "subtree finish"
    assert root.children[-1].children[0].name == "finish"


def test_a_subtree_referenced_twice_builds_two_independent_copies() -> None:
    text = "tree: {sequence: [{subtree: once}, {subtree: once}]}\nsubtrees: {once: {grasp: {target: cup}}}\n"
    script = Script(outcomes={"grasp": [S, S]})
    registry = scripted_registry(script)
    root = build_behaviour(load_tree_text(text, registry), context=None, registry=registry)  # type: ignore[arg-type]
    assert tick_until_done(root)[0] == S
    assert script.log == ["grasp(cup)", "grasp(cup)"]


def test_references_are_resolved_when_the_skill_starts() -> None:
    text = 'tree: {sequence: [{grasp: {target: "{target}"}}, {grasp: {target: "{/held_object}"}}]}'
    script = Script()
    registry = scripted_registry(script)
    root = build_behaviour(load_tree_text(text, registry), context=None, registry=registry)  # type: ignore[arg-type]
    py_trees.blackboard.Blackboard.set("/target", "the red cup")
    py_trees.blackboard.Blackboard.set("/held_object", "the can")
    tick_until_done(root)
    assert script.log == ["grasp(the red cup)", "grasp(the can)"]


def test_reactive_selector_preempts_a_running_lower_priority_child() -> None:
    text = "tree: {selector: [{holding: {target: cup}}, {grasp: {target: cup}}], memory: false}"
    script = Script(outcomes={"holding": [F, S]}, ticks=1)
    registry = scripted_registry(script)
    root = build_behaviour(load_tree_text(text, registry), context=None, registry=registry)  # type: ignore[arg-type]
    root.tick_once()  # holding starts (RUNNING): grasp not started yet
    root.tick_once()  # holding fails -> grasp starts, RUNNING
    assert script.log == ["holding(cup)", "grasp(cup)"] and script.stopped == []
    root.tick_once()  # reactive: holding is re-checked first and runs -> the running grasp is stopped
    assert root.status == Status.RUNNING and script.stopped == ["grasp"]
    root.tick_once()  # holding succeeds
    assert root.status == S
    assert script.log == ["holding(cup)", "grasp(cup)", "holding(cup)"]


def test_includes_bring_in_subtrees_relative_to_the_file(tmp_path: Path) -> None:
    shared = tmp_path / "lib" / "shared.yaml"
    shared.parent.mkdir()
    shared.write_text("subtrees:\n  put_away:\n    reset: {}\n")
    tree = tmp_path / "main.yaml"
    tree.write_text("include: lib/shared.yaml\ntree:\n  subtree: put_away\n")
    document = load_tree(tree)
    assert isinstance(document.subtrees["put_away"], m.SkillNode)
    assert document.subtrees["put_away"].at == m.Location(file=str(shared.resolve()), line=3)


def test_the_same_subtree_defined_in_two_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("subtrees:\n  put_away:\n    reset: {}\n")
    tree = tmp_path / "main.yaml"
    tree.write_text("include: a.yaml\nsubtrees:\n  put_away:\n    reset: {}\ntree:\n  subtree: put_away\n")
    with pytest.raises(Exception, match=r"subtree 'put_away' is defined twice .*a.yaml:2 and .*main.yaml:3"):
        load_tree(tree)


def test_a_file_included_twice_through_two_paths_is_not_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("subtrees:\n  put_away:\n    reset: {}\n")
    (tmp_path / "left.yaml").write_text("include: base.yaml\n")
    (tmp_path / "right.yaml").write_text("include: base.yaml\n")
    tree = tmp_path / "main.yaml"
    tree.write_text("include: [left.yaml, right.yaml]\ntree:\n  subtree: put_away\n")
    assert "put_away" in load_tree(tree).subtrees


def test_unknown_tree_names_suggest_bundled_ones() -> None:
    with pytest.raises(UnknownTreeError, match="did you mean 'clear_table'"):
        load_tree("clear_tabel")
    with pytest.raises(UnknownTreeError, match="tree file not found"):
        load_tree("nowhere/tree.yaml")


def test_status_tree_shows_each_node_status_and_feedback() -> None:
    import io

    from rich.console import Console

    from dexagent.trees.display import status_tree

    script = Script(outcomes={"grasp": [F]})
    registry = scripted_registry(script)
    text = "tree:\n  recovery: {try: {grasp: {target: cup}}, recover: {reset: {}}}\n  retries: 1\n"
    root = build_behaviour(load_tree_text(text, registry), context=None, registry=registry)  # type: ignore[arg-type]
    root.tick_once()
    root.tick_once()  # grasp failed -> reset running
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(status_tree(root, "live"))
    lines = buffer.getvalue().splitlines()
    assert lines[1].startswith("└── … ⟲ recovery (1 retry)  recovering (1/1)")
    assert "✗ ● grasp(target='cup')" in lines[2] and "… ● reset()" in lines[3]


def test_timeout_uses_the_run_clock_from_the_context() -> None:
    class Context:  # the builder only reads `clock` and `namespace` from the context itself
        namespace = ""
        now = 0.0

        def clock(self) -> float:
            return self.now

    context = Context()
    script = Script(ticks=100)  # grasp runs for 100 ticks
    registry = scripted_registry(script)
    document = load_tree_text("tree:\n  timeout: {grasp: {target: cup}}\n  seconds: 2\n", registry)
    root = build_behaviour(document, context=context, registry=registry)  # type: ignore[arg-type]
    root.tick_once()
    context.now = 1.99  # sim time, not wall time, decides
    root.tick_once()
    assert root.status == Status.RUNNING
    context.now = 2.0
    root.tick_once()
    assert root.status == F and script.stopped == ["grasp"]
