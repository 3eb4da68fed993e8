"""Reading tree files: the project's one safe YAML reader (`dexagent.hardware.safe_yaml`) with a
tree file's limits, its errors as `TreeSyntaxError` (file, line, field)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dexagent.hardware.safe_yaml import (
    LineList,
    LineMap,
    YamlFileError,
    YamlLimits,
    quote,
    read_yaml_file,
)
from dexagent.hardware.safe_yaml import read_yaml_text as _read_text
from dexagent.trees.errors import TreeSyntaxError

__all__ = ["MAX_DEPTH", "LineList", "LineMap", "quote", "read_yaml", "read_yaml_text"]

MAX_DEPTH = 64  # tree levels (FORMAT.md): far beyond a hand-written tree, far below Python's recursion limit
TREE_LIMITS = YamlLimits(
    max_depth=2 * MAX_DEPTH + 8,  # a tree level is a mapping and its list of children
    depth_hint=f"a tree may be {MAX_DEPTH} nodes deep",
)


def _tree_error(error: YamlFileError) -> TreeSyntaxError:
    return TreeSyntaxError(error.message, error.path, error.line, error.field)


def read_yaml_text(text: str, path: str = "<tree>") -> Any:
    """Parse one YAML document with line numbers; `TreeSyntaxError` (with the line) on bad YAML."""
    try:
        return _read_text(text, path, TREE_LIMITS)
    except YamlFileError as error:
        raise _tree_error(error) from None


def read_yaml(path: Path) -> Any:
    """Read and parse the YAML file at `path` (errors name the file)."""
    try:
        return read_yaml_file(path, TREE_LIMITS)
    except YamlFileError as error:
        raise _tree_error(error) from None
