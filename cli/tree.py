"""`dexagent tree validate|show|render|schema|list`: work with skill tree files (YAML or BT.CPP XML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from dexagent.cli.app import app
from dexagent.cli.errors import console, fail

if TYPE_CHECKING:  # the tree model, py_trees and the skills load when a tree is read, not for `list`
    from dexagent.trees import model as m

tree_app = typer.Typer(
    help="Skill trees: validate, show and render tree files; the JSON schema; the bundled trees.",
    no_args_is_help=True,
)
app.add_typer(tree_app, name="tree")

_TREE_ARG = typer.Argument(..., help="a bundled tree name (see `dexagent tree list`) or a .yaml/.xml file")


def _load(name_or_path: str) -> m.TreeDocument:
    from dexagent.trees.errors import TreeError
    from dexagent.trees.loader import load_tree

    try:
        return load_tree(name_or_path)
    except TreeError as error:
        fail(str(error))


def _count(document: m.TreeDocument) -> tuple[int, set[str]]:
    """Nodes (subtrees counted once) and the skills used."""
    from dexagent.trees import model as m

    nodes = 0
    skills: set[str] = set()
    stack: list[m.Node] = [document.root, *document.subtrees.values()]
    while stack:
        node = stack.pop()
        nodes += 1
        if isinstance(node, m.SkillNode):
            skills.add(node.skill)
        stack.extend(m.children_of(node))
    return nodes, skills


@tree_app.command("validate")
def validate(path: str = _TREE_ARG) -> None:
    """Check a tree file: syntax, node types, skills and their parameters, subtrees, includes."""
    document = _load(path)
    nodes, skills = _count(document)
    console.print(
        f"[green]ok[/] {document.source}: {nodes} nodes, {len(document.subtrees)} subtrees, "
        f"skills: {', '.join(sorted(skills)) or 'none'}"
    )


@tree_app.command("show")
def show(tree: str = _TREE_ARG) -> None:
    """Print a tree as a unicode tree (subtrees expanded in place)."""
    from dexagent.trees.display import rich_tree

    console.print(rich_tree(_load(tree)))


@tree_app.command("render")
def render_command(
    tree: str = _TREE_ARG,
    out: Path = typer.Option(..., "--out", "-o", help="output image: FILE.svg or FILE.png"),
) -> None:
    """Draw a tree with graphviz into an SVG or PNG file."""
    from dexagent.trees.errors import RenderError
    from dexagent.trees.render import render

    document = _load(tree)
    try:
        written = render(document, out)
    except RenderError as error:
        fail(str(error))
    console.print(f"wrote {written}")


@tree_app.command("schema")
def schema(
    out: Path | None = typer.Option(None, "--out", "-o", help="write to this file instead of stdout"),
) -> None:
    """Print the JSON Schema of tree files (every registered skill's parameters included)."""
    from dexagent.trees.schema import tree_schema

    text = json.dumps(tree_schema(), indent=2)
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text + "\n")
    except OSError as error:
        fail(f"{out}: cannot write the file: {error}")
    console.print(f"wrote {out}")


@tree_app.command("list")
def list_trees() -> None:
    """The bundled trees, with a one-line description each."""
    from dexagent.trees.library import bundled_trees  # the files' description lines: no tree model

    table = Table("tree", "description", box=None, header_style="bold")
    for bundled in bundled_trees():
        table.add_row(f"[cyan]{bundled.name}[/]", bundled.description)
    console.print(table)
