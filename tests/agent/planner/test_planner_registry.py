"""The planner registry: backends declare their options, and bad options are named before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from dexagent.agent.planner import PLANNER_BACKENDS, PlannerConfigError, ScenePlanner, build_planner
from dexagent.agent.planner.factory import PlannerBackend, planner_backends, register_planner
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene


def test_each_backend_declares_its_options() -> None:
    backends = planner_backends()
    assert tuple(backends) == PLANNER_BACKENDS == ("scene", "openai")
    assert set(backends["scene"].options) == {"box_noise", "seed", "max_failures"}
    assert backends["scene"].needs_scene
    assert {"base_url", "model", "box_format", "timeout"} <= set(backends["openai"].options)
    assert all(backends["openai"].options.values()), "every openai option has a description"


def test_scene_options_are_validated_against_the_declaration() -> None:
    sim = SimRobot(sample_scene(1, "seen", 2), image_size=32)
    try:
        planner = build_planner("scene", sim, box_noise=0.1, max_failures=2)
        assert isinstance(planner, ScenePlanner) and planner.max_failures == 2
        with pytest.raises(PlannerConfigError, match="unknown scene planner option 'noise'"):
            build_planner("scene", sim, noise=0.1)
        with pytest.raises(
            PlannerConfigError, match="'max_failures': Input should be greater than or equal to 1"
        ):
            build_planner("scene", sim, max_failures=0)
    finally:
        sim.close()
    with pytest.raises(PlannerConfigError, match="needs the sim robot"):
        build_planner("scene", None)
    with pytest.raises(PlannerConfigError, match="unknown planner 'gpt'"):
        build_planner("gpt")


def test_a_new_backend_is_one_registration() -> None:
    def build(options: dict[str, Any], scene: Any, check: bool) -> Any:
        return ("built", options)

    register_planner(PlannerBackend("echo-test", "a test backend", {"word": "what to echo"}, build))
    assert build_planner("echo-test", word="hi") == ("built", {"word": "hi"})  # type: ignore[comparison-overlap]
    with pytest.raises(ValueError, match="already registered"):
        register_planner(PlannerBackend("echo-test", "again", {}, build))
