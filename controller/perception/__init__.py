"""Mask trackers by name: `oracle` (sim segmentation), `sam+cutie` (the paper), `sam2`.

`make_tracker(name, **options)` builds one; the controller factory takes it as an injected
dependency, so the tracker follows the config, not the robot's type.
"""

from dexagent.controller.perception.registry import (
    TRACKERS,
    TrackerConfigError,
    TrackerFactory,
    make_tracker,
    tracker_factory,
)

__all__ = ["TRACKERS", "TrackerConfigError", "TrackerFactory", "make_tracker", "tracker_factory"]
