"""The mask-tracker registry: each backend declares its options; `make_tracker` builds one by name.

Option classes are registered by path and backends import their heavy dependencies inside their
build function, so listing trackers imports nothing and validating options never imports torch
vision models, SAM or Cutie. Adding a tracker: its module plus one `TRACKERS.register` call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dexagent.hardware.plugins import Registry

if TYPE_CHECKING:
    from dexagent.controller.interfaces import MaskTracker

TrackerFactory = Callable[[], "MaskTracker"]


class TrackerConfigError(ValueError):
    """An unknown tracker name, a bad option, or a backend whose package or weights are missing."""


# Each entry: its options class (None: no options) and `build(options) -> MaskTracker`.
TRACKERS: Registry[MaskTracker] = Registry("mask tracker", TrackerConfigError, noun="tracker")


def tracker_factory(name: str, **options: Any) -> TrackerFactory:
    """A factory of fresh trackers called `name`; options are validated now, models load on call."""
    validated = TRACKERS.validate(name, options)
    build = TRACKERS.factory(name)
    return lambda: build(validated)


def make_tracker(name: str, **options: Any) -> MaskTracker:
    """A new tracker called `name` with `options` (TrackerConfigError when it cannot be built)."""
    return tracker_factory(name, **options)()


def _build_oracle(options: None) -> MaskTracker:
    from dexagent.controller.trackers import OracleTracker

    return OracleTracker()


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


TRACKERS.register(
    "oracle", "the simulator's segmentation of the target (sim only, exact)", factory=_build_oracle
)
TRACKERS.register(
    "sam+cutie",
    "SAM turns the box into a mask, Cutie tracks it (the paper)",
    config="dexagent.controller.perception.options:SamCutieOptions",
    factory=_build_sam_cutie,
)
TRACKERS.register(
    "sam2",
    "SAM2's image predictor re-prompted frame by frame (streaming)",
    config="dexagent.controller.perception.options:Sam2Options",
    factory=_build_sam2,
)
