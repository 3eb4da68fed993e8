"""Read a robot config file (YAML): errors name the file, the line and the field.

`yaml.safe_load` forgets where values were written, so the file is composed into nodes and
walked once, recording the line of every field path; pydantic's error locations are then
mapped back to those lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dexagent.hardware.registry import RobotConfig, RobotConfigError, robot_config_from_dict

Location = tuple[str | int, ...]


class RobotConfigFileError(RobotConfigError):
    """A robot config file cannot be used; the message starts with `file:line:`."""

    def __init__(self, message: str, path: Path, line: int | None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


def _record_lines(node: yaml.Node, at: Location, lines: dict[Location, int], path: Path) -> None:
    """Record the line of every field path under `node`; reject duplicate keys (YAML keeps the last)."""
    lines.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                raise RobotConfigFileError("a key must be a plain name", path, key_node.start_mark.line + 1)
            if key in seen:
                raise RobotConfigFileError(f"duplicate key {key!r}", path, key_node.start_mark.line + 1)
            seen.add(key)
            lines[(*at, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*at, key), lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, (*at, i), lines, path)


def _line_of(loc: Location, lines: dict[Location, int]) -> int | None:
    """The line of the deepest written prefix of `loc` (a missing field points at its section)."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def load_robot_config(path: str | Path) -> RobotConfig:
    """Read and validate a robot config file; `RobotConfigFileError` with file:line on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RobotConfigFileError(f"cannot read the robot config: {error.strerror}", path, None) from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise RobotConfigFileError(
            f"not valid YAML: {problem}", path, mark.line + 1 if mark else None
        ) from None
    finally:
        loader.dispose()
    if root is None:
        raise RobotConfigFileError(
            "the file is empty; it needs at least `type: sim` or `type: real`", path, 1
        )
    lines: dict[Location, int] = {}
    _record_lines(root, (), lines, path)
    if not isinstance(data, dict):
        raise RobotConfigFileError("the top level must be a mapping of fields", path, 1)
    return robot_config_from_data(data, path, lines)


def robot_config_from_data(data: dict[str, Any], path: Path, lines: dict[Location, int]) -> RobotConfig:
    """Validate parsed `data`; the first invalid field's line leads the message, all fields follow."""
    try:
        return robot_config_from_dict(data)
    except ValidationError as error:
        problems = []
        first_line: int | None = None
        for item in error.errors():
            loc = tuple(p for p in item["loc"] if not str(p).startswith("function-"))
            line = _line_of(loc, lines)
            first_line = line if first_line is None else first_line
            where = ".".join(str(p) for p in loc) or "config"
            message = "unknown field" if item["type"] == "extra_forbidden" else item["msg"]
            problems.append(f"{where}: {message}" + (f" (line {line})" if line is not None else ""))
        raise RobotConfigFileError("; ".join(problems), path, first_line) from None
    except RobotConfigError as error:
        if isinstance(error, RobotConfigFileError):
            raise
        raise RobotConfigFileError(str(error), path, lines.get(("type",), 1)) from None
