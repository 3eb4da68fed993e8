"""How nodes are named and drawn as text: labels shared by the live view, `tree show` and renders."""

from __future__ import annotations

import io
from typing import Any

import py_trees
from py_trees.common import Status
from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from dexagent.trees import model as m

# One glyph per node family, after BehaviorTree conventions (-> sequence, ? fallback).
GLYPHS = {
    "sequence": "→",
    "selector": "?",
    "parallel": "⇉",
    "round_robin": "↻",
    "recovery": "⟲",
    "retry": "↺",
    "timeout": "⏱",
    "inverter": "¬",
    "repeat": "⟳",
    "for_each": "∀",
    "skill": "●",
    "subtree": "▷",
}


def format_value(value: Any) -> str:
    """A parameter value as written in a tree file: "{key}" for references, repr-like for literals."""
    if isinstance(value, str):
        return repr(value)
    return str(value)


def node_detail(node: m.Node) -> str:
    """The node's options in a few words, e.g. "3 attempts", "until failure", "reactive"."""
    if isinstance(node, m.SequenceNode | m.SelectorNode):
        return "" if node.memory else "reactive"
    if isinstance(node, m.ParallelNode):
        return node.policy
    if isinstance(node, m.RecoveryNode):
        return f"{node.retries} retr{'y' if node.retries == 1 else 'ies'}"
    if isinstance(node, m.RetryNode):
        return f"{node.attempts} attempts"
    if isinstance(node, m.TimeoutNode):
        return f"{node.seconds:g} s"
    if isinstance(node, m.RepeatNode):
        return f"{node.times} times" if node.times is not None else f"until {node.until}"
    if isinstance(node, m.ForEachNode):
        items = str(node.items) if not isinstance(node.items, tuple) else f"{len(node.items)} items"
        return f"{node.as_key} in {items}" + (
            ", continue on failure" if node.on_failure == "continue" else ""
        )
    if isinstance(node, m.SkillNode):
        return ", ".join(f"{key}={format_value(value)}" for key, value in node.params.items())
    return ""


def node_label(node: m.Node) -> str:
    """The behaviour name: the node's `name`, else a short description such as "grasp(target={target})"."""
    if node.name:
        return node.name
    if isinstance(node, m.SkillNode):
        return f"{node.skill}({node_detail(node)})"
    if isinstance(node, m.SubtreeNode):
        return f"subtree {node.subtree}"
    detail = node_detail(node)
    return f"{node.type} ({detail})" if detail else node.type


def rich_tree(document: m.TreeDocument, expand_subtrees: bool = True) -> Tree:
    """A rich `Tree` of the document; subtrees are drawn in place (once per reference)."""

    def line(node: m.Node) -> Text:
        text = Text(f"{GLYPHS[node.type]} ", style="bold")
        text.append(node_label(node), style="cyan" if isinstance(node, m.SkillNode) else "bold")
        if node.name:  # the label is the user's name: still show what the node is
            kind = node.skill if isinstance(node, m.SkillNode) else node.type
            detail = node_detail(node)
            text.append(f"  [{kind}{': ' + detail if detail else ''}]", style="dim")
        return text

    def add(parent: Tree, node: m.Node) -> None:
        branch = parent.add(line(node))
        if isinstance(node, m.SubtreeNode) and expand_subtrees:
            add(branch, document.subtrees[node.subtree])
        for child in m.children_of(node):
            add(branch, child)

    title = Text(document.description or document.source, style="italic")
    root = Tree(title, guide_style="dim")
    add(root, document.root)
    return root


def unicode_tree(document: m.TreeDocument) -> str:
    """The document as plain unicode text (no colours), as `dexagent tree show` prints it."""
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(rich_tree(document))
    return buffer.getvalue()


_STATUS_STYLE = {
    Status.RUNNING: ("…", "yellow"),
    Status.SUCCESS: ("✓", "green"),
    Status.FAILURE: ("✗", "red"),
    Status.INVALID: ("·", "dim"),
}


def _glyph(behaviour: py_trees.behaviour.Behaviour) -> str:
    from dexagent.trees.composites import Recovery, RoundRobin
    from dexagent.trees.decorators import ForEach, Repeat, Timeout

    by_class: list[tuple[type, str]] = [
        (py_trees.composites.Sequence, GLYPHS["sequence"]),
        (py_trees.composites.Selector, GLYPHS["selector"]),
        (py_trees.composites.Parallel, GLYPHS["parallel"]),
        (RoundRobin, GLYPHS["round_robin"]),
        (Recovery, GLYPHS["recovery"]),
        (py_trees.decorators.Retry, GLYPHS["retry"]),
        (Timeout, GLYPHS["timeout"]),
        (py_trees.decorators.Inverter, GLYPHS["inverter"]),
        (Repeat, GLYPHS["repeat"]),
        (ForEach, GLYPHS["for_each"]),
        (py_trees.decorators.PassThrough, GLYPHS["subtree"]),
    ]
    return next((glyph for cls, glyph in by_class if isinstance(behaviour, cls)), GLYPHS["skill"])


def status_tree(root: py_trees.behaviour.Behaviour, title: str = "") -> Tree:
    """A built tree with each node's status and feedback, for a live view (`rich.live.Live`)."""

    def line(behaviour: py_trees.behaviour.Behaviour) -> Text:
        mark, style = _STATUS_STYLE[behaviour.status]
        text = Text(f"{mark} ", style=style)
        text.append(f"{_glyph(behaviour)} {behaviour.name}", style="bold" if behaviour.children else style)
        if behaviour.feedback_message and behaviour.status != Status.INVALID:
            text.append(f"  {behaviour.feedback_message}", style="dim")
        return text

    def add(parent: Tree, behaviour: py_trees.behaviour.Behaviour) -> None:
        branch = parent.add(line(behaviour))
        for child in behaviour.children:
            add(branch, child)

    tree = Tree(Text(title, style="italic"), guide_style="dim")
    add(tree, root)
    return tree
