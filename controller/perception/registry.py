"""The mask-tracker registry: each backend declares its options; `make_tracker` builds one by name.

Backends with heavy dependencies import them inside their build function, so listing or
validating trackers never imports torch vision models, SAM or Cutie.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


class SamCutieOptions(BaseModel):
    """Options of the `sam+cutie` tracker (the paper's pair)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sam_checkpoint: str = Field(description="path of a SAM checkpoint, e.g. sam_vit_b_01ec64.pth")
    sam_model_type: str = Field("vit_b", description="vit_b, vit_l or vit_h (must match the checkpoint)")
    cutie_weights: str = Field(description="path of Cutie's weights, e.g. cutie-base-mega.pth")
    cutie_model: str = Field("base", description="base or small (must match the weights)")
    device: str = Field("cpu", description="torch device: cpu or cuda")


class Sam2Options(BaseModel):
    """Options of the streaming `sam2` tracker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checkpoint: str = Field(description="path of a SAM2.1 checkpoint, e.g. sam2.1_hiera_tiny.pt")
    size: str = Field("tiny", description="tiny, small, base_plus or large (must match the checkpoint)")
    device: str = Field("cpu", description="torch device: cpu or cuda")
    margin: float = Field(0.15, ge=0, le=2, description="grow the last mask's box by this fraction per frame")
    min_score: float = Field(
        0.5, ge=0, le=1, description="below this predicted IoU the target counts as hidden"
    )


def _build_sam_cutie(options: Any) -> MaskTracker:
    from dexagent.controller.perception.cutie_tracker import SamCutieTracker, load_cutie
    from dexagent.controller.perception.sam import SamSegmenter, load_sam

    sam = load_sam(options.sam_checkpoint, options.sam_model_type, options.device)
    processor = load_cutie(options.cutie_weights, options.device, options.cutie_model)
    return SamCutieTracker(SamSegmenter(sam), processor, options.device)


def _build_sam2(options: Any) -> MaskTracker:
    from dexagent.controller.perception.sam2_tracker import Sam2StreamTracker, load_sam2

    predictor = load_sam2(options.size, options.checkpoint, options.device)
    return Sam2StreamTracker(predictor, margin=options.margin, min_score=options.min_score)


register_tracker(
    "sam+cutie",
    "SAM turns the box into a mask, Cutie tracks it (the paper)",
    SamCutieOptions,
    _build_sam_cutie,
)
register_tracker(
    "sam2", "SAM2's image predictor re-prompted frame by frame (streaming)", Sam2Options, _build_sam2
)
