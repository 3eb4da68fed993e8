"""Plug-in points keyed by a `type` name: the one registry type behind robots, trackers, planners, encoders.

An entry is a name, a one-line description, a typed config (the options it accepts, each field
documented) and a factory. Config and factory may be given as "module:attribute" strings and are
imported on first use, so listing the names and descriptions (a command's `--help`, start-up)
imports nothing but this module: not pydantic, numpy, torch, MuJoCo or a driver.

    ROBOTS = Registry("robot type", RobotConfigError)
    ROBOTS.register("sim", "the MuJoCo sim", config="dexagent.hardware.sim.config:SimRobotConfig",
                    factory=_build_sim)

This module imports no other dexagent module, so every layer may use it (hardware is the bottom).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

Product = TypeVar("Product")


@dataclass(frozen=True)
class Plugin:
    """One registered entry; `config` and `factory` are objects or "module:attribute" paths."""

    name: str
    description: str
    factory: Callable[..., Any] | str
    config: type | str | None = None  # None: the entry takes no options


def load_object(path: str) -> Any:
    """The object "module:attribute" (attribute may be dotted, e.g. "robot:RealRobot.connect") names."""
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected 'module:attribute', got {path!r}")
    value: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


class Registry(Generic[Product]):
    """Entries by name, in registration order; unknown names raise `error` naming the known ones."""

    def __init__(self, kind: str, error: type[Exception], noun: str | None = None) -> None:
        self.kind = kind  # how messages name an entry: "unknown {kind} 'x'"
        self.noun = noun or kind  # how option messages name one: "unknown sam2 {noun} option 'x'"
        self.error = error
        self._plugins: dict[str, Plugin] = {}

    def register(
        self,
        name: str,
        description: str,
        *,
        factory: Callable[..., Product] | str,
        config: type | str | None = None,
    ) -> None:
        """Make `name` available; a second registration of a name is a bug (ValueError)."""
        if name in self._plugins:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        if not description or "\n" in description:
            raise ValueError(f"{self.kind} {name!r} needs a one-line description")
        self._plugins[name] = Plugin(name, description, factory, config)

    def unregister(self, name: str) -> None:
        """Take `name` away again (tests, plug-ins that unload)."""
        self.get(name)
        del self._plugins[name]

    def __contains__(self, name: object) -> bool:
        return name in self._plugins

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._plugins)

    def descriptions(self) -> dict[str, str]:
        """Each name and what it is."""
        return {plugin.name: plugin.description for plugin in self._plugins.values()}

    def choices(self) -> str:
        """The names for a help text or a message: "sim, real"."""
        return ", ".join(self._plugins)

    def get(self, name: str) -> Plugin:
        """The entry called `name` (`error` naming every registered one when there is none)."""
        plugin = self._plugins.get(name)
        if plugin is None:
            raise self.error(f"unknown {self.kind} {name!r}; choose one of {self.choices()}")
        return plugin

    def factory(self, name: str) -> Callable[..., Product]:
        """The factory of `name`, imported now if registered by path."""
        factory = self.get(name).factory
        return load_object(factory) if isinstance(factory, str) else factory

    def config_class(self, name: str) -> type | None:
        """The config class of `name` (None: it takes no options), imported now if registered by path."""
        config = self.get(name).config
        return load_object(config) if isinstance(config, str) else config

    def options(self, name: str) -> dict[str, str]:
        """The options `name` accepts and what each one is (from its config's field descriptions)."""
        config = self.config_class(name)
        if config is None:
            return {}
        fields = getattr(config, "model_fields", None)  # a pydantic model
        if fields is not None:
            return {key: field.description or "" for key, field in fields.items()}
        return {field.name: "" for field in dataclasses.fields(config)}

    def validate(self, name: str, options: Mapping[str, Any]) -> Any:
        """`options` checked against `name`'s config class: its instance (None when it takes none).

        Every problem is named in one `error`: unknown options with the known ones, bad values."""
        config = self.config_class(name)
        if config is None:
            if options:
                raise self.error(
                    "; ".join(f"unknown {name} {self.noun} option {key!r} (known: none)" for key in options)
                )
            return None
        try:
            return config.model_validate(dict(options))  # type: ignore[attr-defined]
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            if not hasattr(error, "errors"):
                raise
            raise self.error(invalid_options(error, f"{name} {self.noun}", self.options(name))) from None


@dataclass(frozen=True)
class FieldProblem:
    """One problem of a pydantic `ValidationError`."""

    where: tuple[Any, ...]  # the field's path; pydantic's internal parts ("function-after[...]") dropped
    message: str  # "unknown field" for a field the config does not have
    given: str | None = None  # repr of the value given, for a bad value (None: missing or unknown)
    kind: str = ""  # pydantic's error type, e.g. "int_parsing", "missing", "extra_forbidden"

    @property
    def name(self) -> str:
        return ".".join(str(part) for part in self.where)


def field_problems(error: Any) -> list[FieldProblem]:
    """Each problem of a pydantic `ValidationError`, in the words our messages use."""
    problems = []
    for item in error.errors():
        where = tuple(part for part in item["loc"] if not str(part).startswith("function-"))
        kind = item["type"]
        if kind == "extra_forbidden":
            problems.append(FieldProblem(where, "unknown field", kind=kind))
        elif kind == "missing":
            problems.append(FieldProblem(where, item["msg"], kind=kind))
        else:
            problems.append(FieldProblem(where, item["msg"], repr(item.get("input")), kind))
    return problems


def invalid_options(error: Any, what: str, known: Iterable[str]) -> str:
    """One line naming every invalid option of `what` (e.g. "sam2 tracker"): unknown ones with the
    known ones, bad values with what was given."""
    known_list = ", ".join(known) or "none"
    parts = []
    for problem in field_problems(error):
        name = problem.name or "options"
        if problem.message == "unknown field":
            parts.append(f"unknown {what} option {name!r} (known: {known_list})")
        else:
            given = f" (got {problem.given})" if problem.given is not None else ""
            parts.append(f"{what} option {name!r}: {problem.message}{given}")
    return "; ".join(parts)
