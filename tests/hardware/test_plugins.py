"""The one registry type: entries by name, loaded by path on first use, options checked by their config."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
from pydantic import BaseModel, ConfigDict, Field

from dexagent.hardware.plugins import Registry, load_object


class LensError(ValueError):
    pass


class LensOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    zoom: float = Field(1.0, gt=0, description="how much it magnifies")
    name: str = Field(description="what it is called")


@dataclass(frozen=True)
class PlainOptions:
    width: int = 3


def test_entries_are_listed_in_order_and_unknown_names_name_the_known_ones() -> None:
    lenses: Registry[str] = Registry("lens", LensError)
    lenses.register("wide", "a wide lens", factory=lambda options: "wide")
    lenses.register("tele", "a long lens", config=LensOptions, factory=lambda options: f"tele {options.zoom}")
    assert lenses.names() == ["wide", "tele"] and "tele" in lenses
    assert lenses.descriptions() == {"wide": "a wide lens", "tele": "a long lens"}
    assert lenses.choices() == "wide, tele"
    with pytest.raises(LensError, match="unknown lens 'fisheye'; choose one of wide, tele"):
        lenses.get("fisheye")
    with pytest.raises(ValueError, match="already registered"):
        lenses.register("wide", "again", factory=str)
    with pytest.raises(ValueError, match="one-line description"):
        lenses.register("macro", "two\nlines", factory=str)
    lenses.unregister("wide")
    assert lenses.names() == ["tele"]


def test_options_are_validated_by_the_config_and_every_problem_is_named() -> None:
    lenses: Registry[str] = Registry("lens", LensError)
    lenses.register("tele", "a long lens", config=LensOptions, factory=lambda options: f"tele {options.zoom}")
    lenses.register("wide", "a wide lens", factory=lambda options: "wide")
    lenses.register("plain", "a plain lens", config=PlainOptions, factory=str)
    assert lenses.options("tele") == {"zoom": "how much it magnifies", "name": "what it is called"}
    assert lenses.options("plain") == {"width": ""} and lenses.options("wide") == {}
    options = lenses.validate("tele", {"zoom": 2, "name": "t"})
    assert lenses.factory("tele")(options) == "tele 2.0"
    with pytest.raises(LensError) as caught:
        lenses.validate("tele", {"zoom": 0, "colour": "red"})
    assert str(caught.value) == (
        "tele lens option 'zoom': Input should be greater than 0 (got 0); "
        "tele lens option 'name': Field required; "
        "unknown tele lens option 'colour' (known: zoom, name)"
    )
    assert lenses.validate("wide", {}) is None
    with pytest.raises(LensError, match="unknown wide lens option 'zoom' \\(known: none\\)"):
        lenses.validate("wide", {"zoom": 2})


def test_an_entry_registered_by_path_is_imported_on_first_use() -> None:
    probe = """
import json, sys
from dexagent.hardware.plugins import Registry
codecs = Registry("codec", ValueError)
codecs.register("json", "JSON text", factory="json:dumps", config="fractions:Fraction")
before = "fractions" in sys.modules
codecs.config_class("json")
print(json.dumps([before, "fractions" in sys.modules, codecs.factory("json")([1])]))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == [False, True, "[1]"]
    assert load_object("dexagent.hardware.plugins:Registry.choices") is Registry.choices
    with pytest.raises(ValueError, match="expected 'module:attribute'"):
        load_object("json.dumps")


def test_listing_the_built_in_registries_imports_no_heavy_library() -> None:
    probe = """
import json, sys
from dexagent.agent.planner.factory import PLANNERS
from dexagent.controller.config import ENCODERS
from dexagent.controller.perception.registry import TRACKERS
from dexagent.hardware.registry import ROBOTS
names = [r.names() for r in (ROBOTS, TRACKERS, PLANNERS, ENCODERS)]
heavy = [m for m in ("pydantic", "numpy", "torch", "py_trees", "mujoco", "openai") if m in sys.modules]
print(json.dumps([names, heavy]))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    names, heavy = json.loads(done.stdout)
    assert names == [
        ["sim", "real"],
        ["oracle", "sam+cutie", "sam2"],
        ["scene", "openai"],
        ["dinov2", "cnn"],
    ]
    assert heavy == []
