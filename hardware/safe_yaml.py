"""The one YAML reader for every file dexagent reads (tree files, robot configs): safe and bounded.

Only YAML's safe types are built (no Python objects, nothing is evaluated). A hostile or
mistaken file is refused with its file and line instead of hanging or crashing: the file's
size, nesting depth, alias uses, expanded size (aliases make a small file stand for a huge
tree) and value length are capped, duplicate keys are an error instead of PyYAML's silent
last-one-wins, and undecodable bytes or control characters are named. Mappings and lists
come back as `LineMap` / `LineList`, which remember the line of every key and item, so
errors found later (by a schema) can point at the spot too.

It lives in `hardware` because that is the last folder of the import order: every other
folder may use it.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class YamlFileError(ValueError):
    """A YAML file cannot be read or breaks a limit; carries `path`, `line` (1-based) and `field`."""

    def __init__(self, message: str, path: str | Path, line: int | None = None, field: str = "") -> None:
        self.message, self.path, self.line, self.field = message, str(path), line, field
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class YamlLimits:
    """What one YAML file may reach; far beyond anything hand-written, far below a hang or a crash."""

    max_bytes: int = 1_000_000
    max_depth: int = 64  # nested mappings/lists (PyYAML's composer recurses once per level)
    max_aliases: int = 100  # `*name` uses per file
    max_values: int = 20_000  # values once aliases are expanded
    max_string: int = 10_000  # characters in one value
    depth_hint: str = ""  # e.g. what the depth means for this kind of file


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
    """A short repr of a value read from a file, for error messages (nested values and long text cut)."""
    return _SHORT.repr(value)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences are `LineMap`/`LineList`, within `limits`."""

    def __init__(self, stream: str, path: str, limits: YamlLimits) -> None:
        super().__init__(stream)
        self.path = path
        self.limits = limits
        self.values = 0
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """PyYAML's composer recurses once per level: refuse deep nesting here, before it can overflow."""
        line = self.peek_event().start_mark.line + 1
        limits = self.limits
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > limits.max_aliases:
                message = f"more than {limits.max_aliases} YAML aliases (*name) in one file"
                raise YamlFileError(message, self.path, line)
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > limits.max_depth:
                hint = f" ({limits.depth_hint})" if limits.depth_hint else ""
                raise YamlFileError(f"nested more than {limits.max_depth} levels deep{hint}", self.path, line)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def count(self, node: yaml.Node) -> None:
        self.values += 1
        if self.values > self.limits.max_values:
            message = f"the document expands to more than {self.limits.max_values} values (aliases?)"
            raise YamlFileError(message, self.path, node.start_mark.line + 1)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    loader.count(node)
    loader.flatten_mapping(node)  # resolves "<<" merge keys
    result = LineMap(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, LineMap | LineList):
            raise YamlFileError("a mapping key must be a plain value", loader.path, line)
        if key in result:
            message = f"duplicate key {key!r} (first written on line {result.key_lines[key]})"
            raise YamlFileError(message, loader.path, line, str(key))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    loader.count(node)
    result = LineList(node.start_mark.line + 1)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


def _construct_scalar(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    loader.count(node)
    if len(node.value) > loader.limits.max_string:
        message = f"a value of {len(node.value)} characters (at most {loader.limits.max_string})"
        raise YamlFileError(message, loader.path, node.start_mark.line + 1)
    constructor = yaml.SafeLoader.yaml_constructors.get(node.tag)
    if constructor is None:
        return loader.construct_scalar(node)
    return constructor(loader, node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[arg-type]
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)  # type: ignore[arg-type]
for _tag in ("bool", "int", "float", "null", "str", "timestamp"):
    _LineLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_scalar)  # type: ignore[arg-type]


def read_yaml_text(text: str, path: str | Path = "<yaml>", limits: YamlLimits | None = None) -> Any:
    """Parse one YAML document with line numbers; `YamlFileError` (with the line) on bad YAML or a limit."""
    limits = limits or YamlLimits()
    path = str(path)
    if len(text) > limits.max_bytes:
        raise YamlFileError(f"the text is {len(text)} characters long (at most {limits.max_bytes})", path)
    loader: _LineLoader | None = None
    try:
        # The reader checks every character as it is built: a NUL byte fails here, not later.
        loader = _LineLoader(text, path, limits)
        data = loader.get_single_data()
        _check_expanded_size(data, path, limits.max_values)
        return data
    except yaml.reader.ReaderError as error:
        character = f"#x{error.character:04x}" if isinstance(error.character, int) else repr(error.character)
        message = f"invalid YAML: character {character} at position {error.position} is not allowed"
        raise YamlFileError(message, path) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or str(error)
        if error.context and error.context_mark is not None and error.context_mark is not mark:
            problem += f" ({error.context} on line {error.context_mark.line + 1})"
        raise YamlFileError(f"invalid YAML: {problem}", path, line) from None
    except yaml.YAMLError as error:
        raise YamlFileError(f"invalid YAML: {' '.join(str(error).split())}", path) from None
    except RecursionError:  # a defence in depth: the depth limit refuses nesting long before this
        raise YamlFileError("nested too deeply", path) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml_file(path: Path, limits: YamlLimits | None = None) -> Any:
    """Read and parse the YAML file at `path` (every error names the file)."""
    limits = limits or YamlLimits()
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise YamlFileError(f"the file is {size} bytes (at most {limits.max_bytes})", path)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise YamlFileError("file not found", path) from None
    except OSError as error:
        raise YamlFileError(f"cannot read the file: {error.strerror or error}", path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start]
        message = f"not UTF-8 text (byte 0x{byte:02x} at offset {error.start}); is it a YAML file?"
        raise YamlFileError(message, path, line) from None
    return read_yaml_text(text, path, limits)


def _check_expanded_size(data: Any, path: str, max_values: int) -> None:
    """Refuse a document whose aliases make it stand for more than `max_values` values once expanded.

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
                raise YamlFileError(message, path, value_line(value))
            return known
        sizes[id(value)] = -1  # being measured
        items = value.values() if isinstance(value, dict) else value
        total = 1 + sum(size(item) for item in items)
        if total > max_values:  # the first (innermost) value that is too big: its line is the culprit
            message = f"this value expands to more than {max_values} values (YAML aliases?)"
            raise YamlFileError(message, path, value_line(value))
        sizes[id(value)] = total
        return total

    def value_line(value: Any) -> int:
        return int(getattr(value, "line", 1))

    size(data)
