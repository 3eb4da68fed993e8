"""The planner registry: backends declare their options, and bad options are named before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from dexagent.agent.planner import PLANNERS, PlannerConfigError, ScenePlanner, build_planner
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene


def test_each_backend_declares_its_options() -> None:
    assert PLANNERS.names() == ["scene", "openai"]
    assert set(PLANNERS.options("scene")) == {"box_noise", "seed", "max_failures"}
    assert {"base_url", "model", "box_format", "timeout"} <= set(PLANNERS.options("openai"))
    assert all(PLANNERS.options("openai").values()), "every openai option has a description"


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

    PLANNERS.register("echo-test", "a test backend", factory=build)
    try:
        assert build_planner("echo-test", word="hi") == ("built", {"word": "hi"})  # type: ignore[comparison-overlap]
        with pytest.raises(ValueError, match="already registered"):
            PLANNERS.register("echo-test", "again", factory=build)
    finally:
        PLANNERS.unregister("echo-test")
    assert "echo-test" not in PLANNERS
