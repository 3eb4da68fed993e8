"""Drawing a tree with graphviz (SVG or PNG), in the usual behaviour-tree look.

Composites are boxes with their glyph (→ sequence, ? selector, ...), decorators are
rounded boxes, actions ellipses, conditions hexagons; subtrees are drawn in place inside
a dashed cluster so their boundary stays visible.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import graphviz

from dexagent.skills.registry import REGISTRY, SkillRegistry
from dexagent.trees import model as m
from dexagent.trees.display import GLYPHS, node_detail, node_label
from dexagent.trees.errors import RenderError

FORMATS = ("svg", "png")


def to_dot(document: m.TreeDocument, registry: SkillRegistry | None = None) -> graphviz.Digraph:
    """The document as a graphviz graph (top-down, one graph node per tree node, subtrees expanded)."""
    registry = REGISTRY if registry is None else registry
    graph = graphviz.Digraph("tree", graph_attr={"rankdir": "TB", "fontname": "Helvetica", "nodesep": "0.3"})
    graph.attr("node", fontname="Helvetica", fontsize="11")
    counter = itertools.count()

    def label(node: m.Node) -> str:
        text = f"{GLYPHS[node.type]} {node_label(node)}"
        detail = node_detail(node)
        if node.name and isinstance(node, m.SkillNode):  # a named skill still shows what it runs
            text += f"\n{node.skill}({detail})"
        elif node.name and detail:
            text += f"\n{detail}"
        return text

    def add(target: graphviz.Digraph, node: m.Node) -> str:
        node_id = f"n{next(counter)}"
        if isinstance(node, m.SkillNode):
            condition = node.skill in registry and registry.get(node.skill).kind == "condition"
            shape = "hexagon" if condition else "ellipse"
            target.node(node_id, label(node), shape=shape, style="filled", fillcolor="#e8f1fb")
        elif isinstance(node, m.SubtreeNode):
            with target.subgraph(name=f"cluster_{node_id}") as cluster:
                cluster.attr(label=f"subtree {node.subtree}", style="dashed", fontname="Helvetica")
                cluster.node(node_id, label(node), shape="box", style="dashed")
                child_id = add(cluster, document.subtrees[node.subtree])
                cluster.edge(node_id, child_id)
            return node_id
        elif node.type in m.DECORATORS:
            target.node(node_id, label(node), shape="box", style="rounded,filled", fillcolor="#fdf3d8")
        else:
            target.node(node_id, label(node), shape="box", style="filled", fillcolor="#eeeeee")
        for child in m.children_of(node):
            target.edge(node_id, add(target, child))
        return node_id

    add(graph, document.root)
    return graph


def render(document: m.TreeDocument, out: str | Path, registry: SkillRegistry | None = None) -> Path:
    """Write the tree to `out` (.svg or .png, chosen by the suffix); `RenderError` when that fails."""
    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise RenderError(f"{out}: unsupported output format {out.suffix or '(none)'!r}; use .svg or .png")
    try:
        data = to_dot(document, registry).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RenderError(
            "graphviz's `dot` program is not installed (Debian/Ubuntu: apt install graphviz)"
        ) from None
    except graphviz.CalledProcessError as error:
        raise RenderError(f"graphviz failed: {error.stderr!r}") from None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    except OSError as error:
        raise RenderError(f"{out}: cannot write the file: {error}") from None
    return out
