"""Read a robot config file (YAML): errors name the file, the line and the field.

The file goes through the project's one safe YAML reader (`safe_yaml`), with limits fit for
a hand-written config: a 200 kB cap, shallow nesting, few aliases. The reader remembers the
line of every key, so pydantic's error locations are mapped back to lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dexagent.hardware.errors import RobotConfigError
from dexagent.hardware.plugins import field_problems
from dexagent.hardware.registry import robot_config_from_dict
from dexagent.hardware.robot_config import RobotConfig
from dexagent.hardware.safe_yaml import LineList, LineMap, YamlFileError, YamlLimits, read_yaml_file

Location = tuple[str | int, ...]
# A robot config is a few dozen fields, a few levels deep.
ROBOT_CONFIG_LIMITS = YamlLimits(max_bytes=200_000, max_depth=16, max_values=5_000, max_string=1_000)


class RobotConfigFileError(RobotConfigError):
    """A robot config file cannot be used; the message starts with `file:line:`."""

    def __init__(self, message: str, path: Path, line: int | None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


def _record_lines(value: Any, at: Location, lines: dict[Location, int]) -> None:
    """Record the line of every field path under `value` (the reader's limits keep this walk small)."""
    if isinstance(value, LineMap):
        lines.setdefault(at, value.line)
        for key, item in value.items():
            lines[(*at, key)] = value.line_of(key)
            _record_lines(item, (*at, key), lines)
    elif isinstance(value, LineList):
        lines.setdefault(at, value.line)
        for i, item in enumerate(value):
            lines.setdefault((*at, i), value.item_lines[i])
            _record_lines(item, (*at, i), lines)


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
        data = read_yaml_file(path, ROBOT_CONFIG_LIMITS)
    except YamlFileError as error:
        raise RobotConfigFileError(error.message, path, error.line) from None
    if data is None:
        raise RobotConfigFileError(
            "the file is empty; it needs at least `type: sim` or `type: real`", path, 1
        )
    if not isinstance(data, dict):
        raise RobotConfigFileError("the top level must be a mapping of fields", path, 1)
    lines: dict[Location, int] = {}
    _record_lines(data, (), lines)
    for key in data:
        if not isinstance(key, str):
            raise RobotConfigFileError("a key must be a plain name", path, lines.get((key,)))
    return robot_config_from_data(data, path, lines)


def robot_config_from_data(data: dict[str, Any], path: Path, lines: dict[Location, int]) -> RobotConfig:
    """Validate parsed `data`; the first invalid field's line leads the message, all fields follow."""
    try:
        return robot_config_from_dict(data)
    except ValidationError as error:
        problems = []
        first_line: int | None = None
        for problem in field_problems(error):
            line = _line_of(problem.where, lines)
            first_line = line if first_line is None else first_line
            where = problem.name or "config"
            problems.append(f"{where}: {problem.message}" + (f" (line {line})" if line is not None else ""))
        raise RobotConfigFileError("; ".join(problems), path, first_line) from None
    except RobotConfigError as error:
        if isinstance(error, RobotConfigFileError):
            raise
        raise RobotConfigFileError(str(error), path, lines.get(("type",), 1)) from None
