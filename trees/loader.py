"""Loading a tree file: YAML (or BT.CPP XML) -> `TreeDocument`, with includes and subtrees checked.

`load_tree("grasp_object")` loads a bundled tree, `load_tree("my_tree.yaml")` a file.
Nothing is evaluated: YAML goes through a SafeLoader subclass, XML through expat with
DTDs refused. Every problem is a `TreeError` naming the file, line and field.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from dexagent.skills.registry import REGISTRY, SkillRegistry
from dexagent.trees import model as m
from dexagent.trees.blackboard_check import check_blackboard
from dexagent.trees.errors import (
    BadReferenceError,
    NodeFieldError,
    TreeCycleError,
    TreeSyntaxError,
)
from dexagent.trees.library import LIBRARY, resolve_tree
from dexagent.trees.source import MAX_DEPTH, LineList, LineMap, read_yaml, read_yaml_text
from dexagent.trees.yaml_format import NodeParser

TOP_LEVEL_KEYS = ("description", "include", "subtrees", "tree")


INCLUDE_PATH_ENV = "DEXAGENT_TREE_INCLUDE_PATH"  # more folders includes may read, os.pathsep-separated


def include_roots(tree_folder: Path) -> tuple[Path, ...]:
    """The folders an `include:` may read from: the tree's own folder (and below), the bundled
    library, and any the user lists in DEXAGENT_TREE_INCLUDE_PATH."""
    extra = [Path(p).expanduser() for p in os.environ.get(INCLUDE_PATH_ENV, "").split(os.pathsep) if p]
    return tuple(folder.resolve() for folder in (tree_folder, LIBRARY, *extra))


def load_tree(name_or_path: str | Path, registry: SkillRegistry | None = None) -> m.TreeDocument:
    """Load a bundled tree by name or a .yaml/.yml/.xml file; `TreeError` on any problem."""
    path = resolve_tree(name_or_path)
    registry = REGISTRY if registry is None else registry
    if path.suffix.lower() == ".xml":
        from dexagent.trees.btcpp import load_btcpp

        return load_btcpp(path, registry)
    return _Loader(registry, include_roots(path.parent)).document(path)


def load_tree_text(text: str, registry: SkillRegistry | None = None, path: str = "<tree>") -> m.TreeDocument:
    """Load a tree from YAML text (includes are resolved relative to the working directory)."""
    registry = REGISTRY if registry is None else registry
    loader = _Loader(registry, include_roots(Path.cwd()))
    return loader.document_from(read_yaml_text(text, path), path, Path.cwd())


class _Loader:
    def __init__(self, registry: SkillRegistry, roots: tuple[Path, ...]) -> None:
        self.registry = registry
        self.roots = roots  # includes must resolve inside one of these
        self.including: list[Path] = []  # the include chain being loaded, for cycle messages

    def document(self, path: Path) -> m.TreeDocument:
        return self.document_from(read_yaml(path), str(path), path.parent)

    def document_from(self, raw: Any, path: str, folder: Path) -> m.TreeDocument:
        subtrees, sources, description = self._file(raw, path, folder, top=True)
        assert isinstance(raw, LineMap)  # _file checked it
        root = NodeParser(path, self.registry).node(raw["tree"], raw.line_of("tree"))
        document = m.TreeDocument(root=root, subtrees=subtrees, description=description, source=path)
        check_subtrees(document)
        check_blackboard(document, self.registry)
        return document

    def _file(
        self, raw: Any, path: str, folder: Path, top: bool
    ) -> tuple[dict[str, m.Node], dict[str, str], str]:
        """Subtrees (own and included), where each was defined, and the description of one file."""
        if not isinstance(raw, LineMap):
            raise TreeSyntaxError(
                "a tree file is a mapping with `tree:` (and optionally description, include, subtrees)",
                path,
                getattr(raw, "line", 1),
            )
        for key in raw:
            if key not in TOP_LEVEL_KEYS:
                close = difflib.get_close_matches(str(key), TOP_LEVEL_KEYS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise NodeFieldError(
                    f"unknown top-level key{hint} (allowed: {', '.join(TOP_LEVEL_KEYS)})",
                    path,
                    raw.line_of(key),
                    str(key),
                )
        if top and "tree" not in raw:
            raise NodeFieldError("the file has no `tree:` (the root node)", path, raw.line, "tree")
        description = raw.get("description", "")
        if not isinstance(description, str):
            raise NodeFieldError(
                "expected a one-line string", path, raw.line_of("description"), "description"
            )
        subtrees: dict[str, m.Node] = {}
        sources: dict[str, str] = {}
        for included in self._includes(raw, path, folder):
            for name, node in included[0].items():
                self._add(subtrees, sources, name, node, included[1][name], path, raw.line_of("include"))
        own = raw.get("subtrees", LineMap(raw.line))
        if not isinstance(own, LineMap):
            raise NodeFieldError(
                "expected a mapping of subtree name -> node", path, raw.line_of("subtrees"), "subtrees"
            )
        parser = NodeParser(path, self.registry)
        for name, body in own.items():
            line = own.line_of(name)
            if not isinstance(name, str) or not name.isidentifier():
                raise NodeFieldError("a subtree name must be an identifier", path, line, str(name))
            self._add(subtrees, sources, name, parser.node(body, line), f"{path}:{line}", path, line)
        return subtrees, sources, description

    def _includes(
        self, raw: LineMap, path: str, folder: Path
    ) -> list[tuple[dict[str, m.Node], dict[str, str]]]:
        value = raw.get("include", [])
        line = raw.line_of("include")
        entries = [value] if isinstance(value, str) else value
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise NodeFieldError("expected a file path or a list of file paths", path, line, "include")
        lines = entries.item_lines if isinstance(entries, LineList) else [line] * len(entries)
        loaded = []
        for entry, entry_line in zip(entries, lines, strict=True):
            target = (folder / entry).resolve()  # symlinks and ".." resolved before the check
            if not any(target.is_relative_to(root) for root in self.roots):
                raise BadReferenceError(
                    f"included file {entry!r} is outside the tree's folder and the bundled library "
                    f"(list more folders in {INCLUDE_PATH_ENV} to allow it)",
                    path,
                    entry_line,
                    "include",
                )
            if not target.is_file():
                raise BadReferenceError(
                    f"included file {entry!r} not found (looked at {target})", path, entry_line, "include"
                )
            if target in self.including or str(target) == str(Path(path).resolve()):
                chain = " -> ".join(p.name for p in [*self.including, Path(path), target])
                raise TreeCycleError(f"include cycle: {chain}", path, entry_line, "include")
            self.including.append(Path(path).resolve())
            try:
                subtrees, sources, _ = self._file(read_yaml(target), str(target), target.parent, top=False)
            finally:
                self.including.pop()
            loaded.append((subtrees, sources))
        return loaded

    @staticmethod
    def _add(
        subtrees: dict[str, m.Node],
        sources: dict[str, str],
        name: str,
        node: m.Node,
        origin: str,
        path: str,
        line: int,
    ) -> None:
        if name in subtrees and sources[name] != origin:
            raise NodeFieldError(
                f"subtree {name!r} is defined twice ({sources[name]} and {origin})", path, line, name
            )
        subtrees[name] = node
        sources[name] = origin


def check_subtrees(document: m.TreeDocument) -> None:
    """Every `subtree:` names a known subtree and no subtree contains itself (`TreeError` otherwise)."""

    def visit(node: m.Node, chain: list[str], depth: int = 1) -> None:
        if depth > MAX_DEPTH:  # each file is bounded; subtrees inside subtrees could still stack up
            at = node.at
            raise TreeSyntaxError(
                f"with its subtrees expanded the tree is nested more than {MAX_DEPTH} nodes deep "
                f"(through {' -> '.join(chain) or 'the root'})",
                at.file if at else document.source,
                at.line if at else None,
            )
        if isinstance(node, m.SubtreeNode):
            at = node.at
            if node.subtree not in document.subtrees:
                close = difflib.get_close_matches(node.subtree, list(document.subtrees), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                known = ", ".join(document.subtrees) or "none defined"
                raise BadReferenceError(
                    f"unknown subtree {node.subtree!r}{hint} (subtrees: {known})",
                    at.file if at else document.source,
                    at.line if at else None,
                    "subtree",
                )
            if node.subtree in chain:
                cycle = " -> ".join([*chain[chain.index(node.subtree) :], node.subtree])
                raise TreeCycleError(
                    f"subtree cycle: {cycle}",
                    at.file if at else document.source,
                    at.line if at else None,
                    "subtree",
                )
            visit(document.subtrees[node.subtree], [*chain, node.subtree], depth + 1)
            return
        for child in m.children_of(node):
            visit(child, chain, depth + 1)

    visit(document.root, [])
    for name, node in document.subtrees.items():
        visit(node, [name])
