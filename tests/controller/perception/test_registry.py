"""The tracker registry: trackers by name with declared options, injected into the learned controller."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dexagent.controller.checkpoint import save_checkpoint
from dexagent.controller.factory import resolve_controller
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.perception import (
    TRACKERS,
    TrackerConfigError,
    make_tracker,
    tracker_factory,
)
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.trackers import OracleTracker
from dexagent.hardware import Box, Observation, SafeRobot
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene


def test_oracle_is_registered_and_unknown_names_or_options_are_refused() -> None:
    assert "oracle" in TRACKERS
    assert isinstance(make_tracker("oracle"), OracleTracker)
    with pytest.raises(TrackerConfigError, match="unknown mask tracker 'xmem'"):
        make_tracker("xmem")
    with pytest.raises(TrackerConfigError, match="unknown oracle tracker option 'device'"):
        tracker_factory("oracle", device="cuda")


class _CountingTracker(OracleTracker):
    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    def step(self, observation: Observation) -> np.ndarray:
        self.steps += 1
        return super().step(observation)


def test_the_learned_controller_uses_the_injected_tracker(
    tmp_path: Path, tiny_config: Callable[..., object]
) -> None:
    sim = SimRobot(sample_scene(2, "seen", 2), image_size=32)
    made: list[_CountingTracker] = []

    def factory() -> _CountingTracker:
        made.append(_CountingTracker())
        return made[-1]

    try:
        policy = DexGraspPolicy(
            tiny_config(image_size=32),
            Normalizer.from_limits(sim.spec.lower, sim.spec.upper),
            load_pretrained=False,
        )
        folder = save_checkpoint(tmp_path / "ckpt", policy)
        controller = resolve_controller(str(folder), "grasp").build(sim, tracker=factory)
        robot = SafeRobot(sim)
        observation = robot.observe()
        box = sim.object_box(0)
        assert isinstance(box, Box)
        controller.reset(observation, box)
        for _ in range(3):
            robot.act(controller.act(robot.observe()))
        controller.close()
        assert len(made) == 1 and made[0].object_id is not None and made[0].steps >= 1
    finally:
        sim.close()
