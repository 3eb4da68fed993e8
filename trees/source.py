"""Reading YAML safely while remembering where every mapping key and list item was written.

`yaml.safe_load` forgets lines, and the loader's errors must point at them, so this
module builds plain dicts and lists that also carry their 1-based line numbers. Only
YAML's safe types are constructed (no Python objects, nothing is evaluated), duplicate
keys are an error instead of PyYAML's silent last-one-wins, and documents are capped in
size because aliases can make a small file expand into a huge tree.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import yaml

from dexagent.trees.errors import TreeSyntaxError

MAX_VALUES = 20_000  # a tree file is hand-written; far beyond this is an alias bomb or a mistake
MAX_DEPTH = 64  # tree levels (FORMAT.md): far beyond a hand-written tree, far below Python's recursion limit
MAX_YAML_DEPTH = 2 * MAX_DEPTH + 8  # a tree level is a mapping and its list of children
MAX_ALIASES = 100  # `*name` uses per file
MAX_STRING = 10_000  # characters in one value


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


class _ShortRepr(reprlib.Repr):
    """`repr` that stops early: an aliased value quoted in full could run to gigabytes."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxdict, self.maxlist, self.maxstring, self.maxother = 3, 4, 6, 80, 80

    def repr_LineMap(self, value: LineMap, level: int) -> str:  # noqa: N802 (reprlib's naming)
        return self.repr_dict(value, level)

    def repr_LineList(self, value: LineList, level: int) -> str:  # noqa: N802
        return self.repr_list(value, level)


_SHORT = _ShortRepr()


def quote(value: Any) -> str:
    """A short repr of a value from a tree file, for error messages (nested values and long text cut)."""
    return _SHORT.repr(value)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences are `LineMap`/`LineList`."""

    def __init__(self, stream: str, path: str) -> None:
        super().__init__(stream)
        self.path = path
        self.values = 0
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """PyYAML's composer recurses once per level: refuse deep nesting here, before it can overflow."""
        line = self.peek_event().start_mark.line + 1
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                message = f"more than {MAX_ALIASES} YAML aliases (*name) in one file"
                raise TreeSyntaxError(message, self.path, line)
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise TreeSyntaxError(
                    f"nested more than {MAX_YAML_DEPTH} levels deep (a tree may be {MAX_DEPTH} nodes deep)",
                    self.path,
                    line,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

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
    if len(node.value) > MAX_STRING:
        message = f"a value of {len(node.value)} characters (at most {MAX_STRING})"
        raise TreeSyntaxError(message, loader.path, node.start_mark.line + 1)
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
        data = loader.get_single_data()
        _check_expanded_size(data, path)
        return data
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


def _check_expanded_size(data: Any, path: str) -> None:
    """Refuse a document whose aliases make it stand for more than MAX_VALUES values once expanded.

    An alias is one shared object, so loading stays small; but anything that walks the value
    (a validator, an error message quoting it) would expand it. Sizes are memoised per object,
    so this costs one visit per distinct object."""
    sizes: dict[int, int] = {}

    def size(value: Any) -> int:
        if not isinstance(value, dict | list):
            return 1
        known = sizes.get(id(value))
        if known is not None:
            if known < 0:
                message = "a value contains itself (a recursive YAML alias)"
                raise TreeSyntaxError(message, path, value_line(value))
            return known
        sizes[id(value)] = -1  # being measured
        items = value.values() if isinstance(value, dict) else value
        total = 1 + sum(size(item) for item in items)
        if total > MAX_VALUES:  # the first (innermost) value that is too big: its line is the culprit
            message = f"this value expands to more than {MAX_VALUES} values (YAML aliases?)"
            raise TreeSyntaxError(message, path, value_line(value))
        sizes[id(value)] = total
        return total

    def value_line(value: Any) -> int:
        return int(getattr(value, "line", 1))

    size(data)


def read_yaml(path: Path) -> Any:
    """Read and parse the YAML file at `path` (errors name the file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TreeSyntaxError("file not found", path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise TreeSyntaxError(f"cannot read the file: {error}", path) from None
    return read_yaml_text(text, str(path))
