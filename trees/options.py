"""Typed readers for node options (attempts, seconds, memory, ...): errors say what was expected."""

from __future__ import annotations

import re
from typing import Any

from dexagent.trees.errors import NodeFieldError
from dexagent.trees.source import LineMap, quote

# A blackboard key as written in a file: "target", "a/b", "a.b", "/abs/key".
KEY_PATTERN = re.compile(r"^/?[A-Za-z_][A-Za-z0-9_]*(?:[./][A-Za-z_][A-Za-z0-9_]*)*$")


class OptionReader:
    """Reads options from a node's mapping; `path` is the file the errors name."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _fail(self, raw: LineMap, key: str, expected: str) -> NodeFieldError:
        return NodeFieldError(f"expected {expected}, got {quote(raw[key])}", self.path, raw.line_of(key), key)

    def _string(self, raw: LineMap, key: str) -> str:
        if not isinstance(raw[key], str) or not raw[key]:
            raise self._fail(raw, key, "a non-empty string")
        return str(raw[key])

    def _bool(self, raw: LineMap, key: str, default: bool) -> bool:
        if key not in raw:
            return default
        if not isinstance(raw[key], bool):
            raise self._fail(raw, key, "true or false")
        return bool(raw[key])

    def _int(self, raw: LineMap, key: str, owner: str, default: int | None = None) -> int:
        if key not in raw:
            if default is None:
                raise NodeFieldError(f"{owner} needs `{key}:` (an integer >= 1)", self.path, raw.line, key)
            return default
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self._fail(raw, key, "an integer >= 1")
        return value

    def _positive_float(self, raw: LineMap, key: str) -> float:
        if key not in raw:
            raise NodeFieldError(f"timeout needs `{key}:` (a number > 0)", self.path, raw.line, key)
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self._fail(raw, key, "a number of seconds > 0")
        return float(value)

    def _choice(self, raw: LineMap, key: str, choices: tuple[str, ...], default: Any) -> Any:
        if key not in raw:
            return default
        if raw[key] not in choices:
            raise self._fail(raw, key, " or ".join(choices))
        return raw[key]

    def _key(self, raw: LineMap, key: str) -> str:
        if key not in raw:
            raise NodeFieldError(
                f"for_each needs `{key}:` (the blackboard key each item is written to)",
                self.path,
                raw.line,
                key,
            )
        value = raw[key]
        if not isinstance(value, str) or not KEY_PATTERN.match(value):
            raise self._fail(raw, key, "a blackboard key name such as `target` (no braces)")
        return value
