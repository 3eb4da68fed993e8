"""Plain values describing one procedural scene; `scenes.py` samples them, `model.py` builds MuJoCo from them.

World frame: the arm's base is at the origin, x points forward over the table,
z up. The table top is the plane z = TABLE_TOP_Z; objects are placed inside
PLACEMENT_X x PLACEMENT_Y. Lengths in metres, angles in radians.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

TABLE_TOP_Z = 0.0
TABLE_X = (0.15, 0.85)  # table extent along x (front edge near the robot, back edge)
TABLE_Y = (-0.35, 0.35)  # table extent along y (its two side edges)
PLACEMENT_X = (0.35, 0.62)
PLACEMENT_Y = (-0.2, 0.2)

# The one default camera size of the code base: the shipped grasp checkpoint's render size, so
# scripted demos, evaluations and runs without a learned controller see what it learned from.
# A run with a learned controller renders at that controller's size instead (agent/world.py).
DEFAULT_IMAGE_SIZE = 96


class CameraSizes(NamedTuple):
    """The sides of the head and wrist cameras' square images, pixels: each camera renders at the
    size its encoder reads (a frozen DINOv2 head at 224 beside a trainable wrist CNN at 96)."""

    head: int
    wrist: int

    def shown(self) -> str:
        """`96 px`, or `224 px head, 96 px wrist` when the cameras have sizes of their own."""
        return f"{self.head} px" if self.head == self.wrist else f"{self.head} px head, {self.wrist} px wrist"


SPLITS = ("seen", "unseen-objects", "unseen-backgrounds", "unseen-lighting")
Split = Literal["seen", "unseen-objects", "unseen-backgrounds", "unseen-lighting"]
GeomKind = Literal["box", "cylinder", "sphere", "capsule", "ellipsoid"]


@dataclass(frozen=True)
class GeomSpec:
    """One primitive of an object, in the object's frame; `size` follows MuJoCo's conventions per kind."""

    kind: GeomKind
    size: tuple[float, ...]
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    rgba: tuple[float, float, float, float] | None = None  # None: the object's colour


@dataclass(frozen=True)
class ObjectSpec:
    """An object type from the library, with its semantic tags."""

    name: str  # unique within a scene, e.g. "red_cup"
    category: str  # bottle, can, fruit, snack, toy, cup, plate, book, box, ...
    colour: str  # colour word a prompt may use: red, green, blue, yellow, ...
    rgba: tuple[float, float, float, float]
    geoms: tuple[GeomSpec, ...]
    mass: float  # kg
    friction: float
    tags: frozenset[str]  # e.g. {"food"}, {"flat"}; category and colour are tags too
    rest_height: float  # z of the object frame above the table top when it rests upright
    flat: bool = False  # wide and low: cannot be grasped from above, needs push_then_grasp
    object_type: str = ""  # library type it was drawn from ("apple", "mug"); splits hold out types


@dataclass(frozen=True)
class PlacedObject:
    spec: ObjectSpec
    x: float
    y: float
    yaw: float


@dataclass(frozen=True)
class Background:
    """The table's appearance."""

    name: str  # "white" is the seen one
    texture: Literal["flat", "checker", "gradient", "noise"]
    rgb1: tuple[float, float, float]
    rgb2: tuple[float, float, float]
    repeat: tuple[float, float] = (1.0, 1.0)


@dataclass(frozen=True)
class LightSpec:
    pos: tuple[float, float, float]
    direction: tuple[float, float, float]
    diffuse: tuple[float, float, float]
    ambient: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Lighting:
    """The scene's lights. `moving` lights (disco) change colour/direction with sim time."""

    name: str  # "white" is the seen one
    lights: tuple[LightSpec, ...]
    moving: bool = False


@dataclass(frozen=True)
class SceneSpec:
    seed: int
    split: Split
    objects: tuple[PlacedObject, ...]
    background: Background
    lighting: Lighting
