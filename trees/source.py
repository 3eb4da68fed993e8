"""Reading YAML safely while remembering where every mapping key and list item was written.

`yaml.safe_load` forgets lines, and the loader's errors must point at them, so this
module builds plain dicts and lists that also carry their 1-based line numbers. Only
YAML's safe types are constructed (no Python objects, nothing is evaluated), duplicate
keys are an error instead of PyYAML's silent last-one-wins, and documents are capped in
size because aliases can make a small file expand into a huge tree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dexagent.trees.errors import TreeSyntaxError

MAX_VALUES = 20_000  # a tree file is hand-written; far beyond this is an alias bomb or a mistake


class LineMap(dict[Any, Any]):
    """A YAML mapping; `line` is where it starts, `key_lines[key]` where each key is written."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """The line of `key`, or of the mapping when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence; `line` is where it starts, `item_lines[i]` where item i starts."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences are `LineMap`/`LineList`."""

    def __init__(self, stream: str, path: str) -> None:
        super().__init__(stream)
        self.path = path
        self.values = 0

    def _count(self, node: yaml.Node) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise TreeSyntaxError(
                f"the document expands to more than {MAX_VALUES} values (aliases?)",
                self.path,
                node.start_mark.line + 1,
            )


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    loader._count(node)
    loader.flatten_mapping(node)  # resolves "<<" merge keys
    result = LineMap(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, LineMap | LineList):
            raise TreeSyntaxError("a mapping key must be a plain value", loader.path, line)
        if key in result:
            raise TreeSyntaxError(
                f"duplicate key {key!r} (first written on line {result.key_lines[key]})",
                loader.path,
                line,
                str(key),
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    loader._count(node)
    result = LineList(node.start_mark.line + 1)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


def _construct_scalar(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    loader._count(node)
    tag = node.tag
    constructor = yaml.SafeLoader.yaml_constructors.get(tag)
    if constructor is None:
        return loader.construct_scalar(node)
    return constructor(loader, node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[arg-type]
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)  # type: ignore[arg-type]
for _tag in ("bool", "int", "float", "null", "str", "timestamp"):
    _LineLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_scalar)  # type: ignore[arg-type]


def read_yaml_text(text: str, path: str = "<tree>") -> Any:
    """Parse one YAML document with line numbers; `TreeSyntaxError` (with the line) on bad YAML."""
    loader = _LineLoader(text, path)
    try:
        return loader.get_single_data()
    except TreeSyntaxError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or str(error)
        if error.context and error.context_mark is not None and error.context_mark is not mark:
            problem += f" ({error.context} on line {error.context_mark.line + 1})"
        raise TreeSyntaxError(f"invalid YAML: {problem}", path, line) from None
    except yaml.YAMLError as error:
        raise TreeSyntaxError(f"invalid YAML: {error}", path) from None
    finally:
        loader.dispose()


def read_yaml(path: Path) -> Any:
    """Read and parse the YAML file at `path` (errors name the file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TreeSyntaxError("file not found", path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TreeSyntaxError(f"cannot read the file: {error}", path) from None
    return read_yaml_text(text, str(path))
