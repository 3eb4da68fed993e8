"""Tiny hand-built scenes for the sim tests (`hardware/sim/scenes.py` samples the real procedural ones)."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import pytest

from dexagent.hardware.sim.scene_spec import (
    Background,
    GeomSpec,
    Lighting,
    LightSpec,
    ObjectSpec,
    PlacedObject,
    SceneSpec,
)

WHITE_TABLE = Background("white", "flat", (0.92, 0.92, 0.9), (0.92, 0.92, 0.9))
WHITE_LIGHT = Lighting(
    "white", (LightSpec((0.5, 0.0, 1.5), (0.0, 0.0, -1.0), (0.8, 0.8, 0.8), (0.3, 0.3, 0.3)),)
)


def cube(name: str = "red_cube", half: float = 0.025) -> ObjectSpec:
    return ObjectSpec(
        name,
        "toy",
        "red",
        (0.85, 0.15, 0.1, 1.0),
        (GeomSpec("box", (half, half, half)),),
        mass=0.08,
        friction=1.0,
        tags=frozenset({"toy", "red"}),
        rest_height=half,
    )


def can(name: str = "green_can", radius: float = 0.03, half_height: float = 0.055) -> ObjectSpec:
    return ObjectSpec(
        name,
        "can",
        "green",
        (0.1, 0.7, 0.2, 1.0),
        (GeomSpec("cylinder", (radius, half_height)),),
        mass=0.12,
        friction=1.0,
        tags=frozenset({"can", "green", "food"}),
        rest_height=half_height,
    )


def bottle(name: str = "blue_bottle") -> ObjectSpec:
    return ObjectSpec(
        name,
        "bottle",
        "blue",
        (0.1, 0.3, 0.9, 1.0),
        (GeomSpec("cylinder", (0.03, 0.08)), GeomSpec("cylinder", (0.013, 0.025), pos=(0.0, 0.0, 0.1))),
        mass=0.15,
        friction=1.0,
        tags=frozenset({"bottle", "blue"}),
        rest_height=0.08,
    )


def make_scene(
    *placed: tuple[ObjectSpec, float, float, float], seed: int = 0, moving: bool = False
) -> SceneSpec:
    lighting = Lighting("disco", WHITE_LIGHT.lights, moving=True) if moving else WHITE_LIGHT
    objects = tuple(PlacedObject(spec, x, y, yaw) for spec, x, y, yaw in placed)
    return SceneSpec(seed, "seen", objects, WHITE_TABLE, lighting)


@pytest.fixture
def three_object_scene() -> SceneSpec:
    return make_scene((cube(), 0.45, -0.1, 0.3), (can(), 0.52, 0.1, 0.0), (bottle(), 0.58, -0.02, 0.0))


class Shapes:
    """Builders of tiny test scenes, handed to tests as the `shapes` fixture (conftest is not importable)."""

    cube = staticmethod(cube)
    can = staticmethod(can)
    bottle = staticmethod(bottle)
    scene = staticmethod(make_scene)


@pytest.fixture
def shapes() -> type[Shapes]:
    return Shapes
