"""The mask-tracker registry: each backend declares its options; `make_tracker` builds one by name.

Backends with heavy dependencies import them inside their build function, so listing or
validating trackers never imports torch vision models, SAM or Cutie.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from dexagent.controller.interfaces import MaskTracker

TrackerFactory = Callable[[], MaskTracker]


class TrackerConfigError(ValueError):
    """An unknown tracker name, a bad option, or a backend whose package or weights are missing."""


class NoOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class TrackerEntry:
    name: str
    description: str
    options: type[BaseModel]
    build: Callable[[Any], MaskTracker]


_TRACKERS: dict[str, TrackerEntry] = {}


def register_tracker(
    name: str, description: str, options: type[BaseModel], build: Callable[[Any], MaskTracker]
) -> None:
    """Make a tracker available as `name`; `build(options)` gets the validated options model."""
    if name in _TRACKERS:
        raise ValueError(f"tracker {name!r} is already registered")
    _TRACKERS[name] = TrackerEntry(name, description, options, build)


def tracker_names() -> dict[str, str]:
    """Registered trackers and what each one is."""
    return {name: entry.description for name, entry in _TRACKERS.items()}


def tracker_options(name: str) -> dict[str, str]:
    """The options `name` accepts, with their descriptions."""
    entry = _entry(name)
    return {key: field.description or "" for key, field in entry.options.model_fields.items()}


def _entry(name: str) -> TrackerEntry:
    entry = _TRACKERS.get(name)
    if entry is None:
        raise TrackerConfigError(f"unknown mask tracker {name!r}; choose one of {', '.join(_TRACKERS)}")
    return entry


def _validated(entry: TrackerEntry, options: dict[str, Any]) -> BaseModel:
    try:
        return entry.options.model_validate(options)
    except ValidationError as error:
        parts = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"]) or "options"
            if item["type"] == "extra_forbidden":
                known = ", ".join(entry.options.model_fields) or "none"
                parts.append(f"unknown {entry.name} tracker option {where!r} (known: {known})")
            else:
                parts.append(f"{entry.name} tracker option {where!r}: {item['msg']}")
        raise TrackerConfigError("; ".join(parts)) from None


def tracker_factory(name: str, **options: Any) -> TrackerFactory:
    """A factory of fresh trackers called `name`; options are validated now, models load on call."""
    entry = _entry(name)
    validated = _validated(entry, options)
    return lambda: entry.build(validated)


def make_tracker(name: str, **options: Any) -> MaskTracker:
    """A new tracker called `name` with `options` (TrackerConfigError when it cannot be built)."""
    return tracker_factory(name, **options)()


def _build_oracle(options: Any) -> MaskTracker:
    from dexagent.controller.trackers import OracleTracker

    return OracleTracker()


register_tracker(
    "oracle", "the simulator's segmentation of the target (sim only, exact)", NoOptions, _build_oracle
)
