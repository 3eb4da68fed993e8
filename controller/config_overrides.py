"""Dotted overrides of a policy config from the command line: `--set dit.depth=6`.

As openpi's and LeRobot's command lines, any field of `PolicyConfig` or of one of its parts
(`head_encoder`, `wrist_encoder`, `mask_encoder`, `dit`) takes a value by its dotted path, so a
recipe is a preset plus its overrides, never a hand-edited JSON. A value is read by the
field's type; an unknown path names the fields there, a value outside a field's choices names
them, and the config's own checks (ranges, consistency) run on the result.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from typing import Any

from dexagent.controller.config import ConfigError, PolicyConfig

_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def parse_override(text: str) -> tuple[str, str]:
    """`"dit.depth=6"` -> `("dit.depth", "6")`; a text without `=` or a path raises ConfigError."""
    path, sep, value = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise ConfigError(f"--set {text!r}: expected FIELD=VALUE, e.g. dit.depth=6")
    return path, value.strip()


def _fields(cls: type) -> dict[str, Any]:
    """A config dataclass's field names and their resolved types."""
    hints = typing.get_type_hints(cls)
    return {field.name: hints[field.name] for field in dataclasses.fields(cls)}


def _read(path: str, kind: Any, text: str) -> Any:
    """`text` as a value of type `kind` (the field at `path`), or ConfigError naming what fits."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Literal:
        if text not in args:
            raise ConfigError(f"--set {path}={text}: {path} must be one of {', '.join(map(str, args))}")
        return text
    if origin in (typing.Union, types.UnionType):  # `int | None`
        if text.lower() == "none" and type(None) in args:
            return None
        (inner,) = (arg for arg in args if arg is not type(None))
        return _read(path, inner, text)
    if origin is tuple:  # `tuple[int, ...]`: comma-separated
        parts = [part for part in text.replace(" ", "").split(",") if part]
        return tuple(_read(path, args[0], part) for part in parts)
    if kind is bool:
        if text.lower() not in _TRUE + _FALSE:
            raise ConfigError(f"--set {path}={text}: {path} is true or false")
        return text.lower() in _TRUE
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise ConfigError(f"--set {path}={text}: {path} must be {what}") from None
    return text


def _set(data: dict[str, Any], cls: type, path: str, parts: list[str], text: str) -> None:
    """Set the field at `parts` of `data` (the dict form of config dataclass `cls`) from `text`."""
    fields = _fields(cls)
    name, rest = parts[0], parts[1:]
    where = ".".join(path.split(".")[: -len(parts)])
    if name not in fields:
        place = f"{where} has" if where else "a policy config has"
        raise ConfigError(f"--set {path}: no field {name!r}; {place} {', '.join(fields)}")
    kind = fields[name]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not rest:
            inner = ", ".join(f"{path}.{field}" for field in _fields(kind))
            raise ConfigError(f"--set {path}: {path} is a group of fields; set one of {inner}")
        _set(data[name], kind, path, rest, text)
    elif rest:
        raise ConfigError(f"--set {path}: {where + '.' if where else ''}{name} is a value, not a group")
    else:
        data[name] = _read(path, kind, text)


def apply_overrides(config: PolicyConfig, overrides: Sequence[str]) -> PolicyConfig:
    """`config` with each `FIELD=VALUE` of `overrides` applied in order, checked as a whole.

    The config's own checks run once on the result, so overrides that only fit together (a new
    `patch_size` with its `channels`) may be given in any order.
    """
    if not overrides:
        return config
    data = config.to_dict()
    for text in overrides:
        path, value = parse_override(text)
        _set(data, PolicyConfig, path, path.split("."), value)
    try:
        return PolicyConfig.from_dict(data)
    except ConfigError as error:
        raise ConfigError(f"--set {' --set '.join(canonical(overrides))}: {error}") from None


def canonical(overrides: Sequence[str]) -> tuple[str, ...]:
    """The overrides as `path=value` strings, as a run records them."""
    return tuple("=".join(parse_override(text)) for text in overrides)
