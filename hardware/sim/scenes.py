"""`sample_scene`: seeded procedural cluttered scenes for every domain split.

A scene is 1-8 objects from the split's object pool, placed without overlap inside
PLACEMENT_X x PLACEMENT_Y with a free gap between them wide enough for an open hand,
on the split's table under the split's lighting. With `flat_target=True` the first
object is a flat one (plate, book, ...) in the +y half of the region, and the lane it will be
pushed along toward the +y side edge of the table is kept free, as is a slot behind it for
the pushing hand (the -y edge has the drop bin beside it).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from dexagent.hardware.errors import HardwareError
from dexagent.hardware.sim.domains import backgrounds_for, lightings_for
from dexagent.hardware.sim.objects import ObjectTemplate, footprint_radius, templates_for
from dexagent.hardware.sim.scene_spec import (
    PLACEMENT_X,
    PLACEMENT_Y,
    SPLITS,
    ObjectSpec,
    PlacedObject,
    SceneSpec,
    Split,
)

MAX_OBJECTS = 8
# A flat target and its free push lane take the room of about three objects.
MAX_OBJECTS_WITH_FLAT_TARGET = 6
MIN_GAP = 0.05  # m of free table between two objects' footprints: an open hand's finger fits
PUSH_LANE_GAP = 0.02  # m beside the lane a flat target sweeps on its way to the table edge
HAND_SLOT_DEPTH = 0.07  # m behind a flat target where the pushing hand comes down
HAND_SLOT_HALF_WIDTH = 0.05  # m, half the hand's width across the push direction
PUSH_SIDE = 1.0  # flat targets are pushed toward +y (see push_direction)
_PLACEMENT_TRIES = 200  # positions tried per object before the whole layout is redrawn
_LAYOUT_TRIES = 400


class SceneError(HardwareError, ValueError):
    """A scene was asked for with arguments that cannot make one."""


def sample_scene(
    seed: int, split: str = "seen", n_objects: int = 6, *, flat_target: bool = False
) -> SceneSpec:
    """A reproducible random scene: the same (seed, split, n_objects, flat_target) gives the same scene.

    With `flat_target`, `objects[0]` is the flat target and n_objects is at most 6.
    Raises SceneError for an unknown split, n_objects out of range or a negative seed.
    """
    _check_arguments(seed, split, n_objects)
    if flat_target and n_objects > MAX_OBJECTS_WITH_FLAT_TARGET:
        raise SceneError(
            f"n_objects must be in 1..{MAX_OBJECTS_WITH_FLAT_TARGET} with flat_target=True "
            f"(a flat target and its push lane leave no room for more), got {n_objects}"
        )
    rng = np.random.default_rng(seed)
    background_options, lighting_options = backgrounds_for(split), lightings_for(split)
    background = background_options[int(rng.integers(len(background_options)))]
    lighting = lighting_options[int(rng.integers(len(lighting_options)))]
    unseen = split == "unseen-objects"
    graspable, flats = templates_for(unseen, flat=False), templates_for(unseen, flat=True)
    for _ in range(_LAYOUT_TRIES):
        templates = [graspable[int(rng.integers(len(graspable)))] for _ in range(n_objects)]
        if flat_target:
            templates[0] = flats[int(rng.integers(len(flats)))]
        placed = _place(rng, _instances(rng, templates), flat_target)
        if placed is not None:
            return SceneSpec(seed, _as_split(split), placed, background, lighting)
    raise SceneError(
        f"could not place {n_objects} objects without overlap for seed {seed} (split {split!r}); "
        "ask for fewer objects"
    )


def _check_arguments(seed: int, split: str, n_objects: int) -> None:
    if split not in SPLITS:
        raise SceneError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    if isinstance(n_objects, bool) or not isinstance(n_objects, int) or not 1 <= n_objects <= MAX_OBJECTS:
        raise SceneError(f"n_objects must be an integer in 1..{MAX_OBJECTS}, got {n_objects!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SceneError(f"seed must be a non-negative integer, got {seed!r}")


def _as_split(split: str) -> Split:
    for known in SPLITS:
        if known == split:
            return known  # type: ignore[return-value]  # SPLITS holds exactly the Split literals
    raise SceneError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")


def _instances(rng: np.random.Generator, templates: list[ObjectTemplate]) -> list[ObjectSpec]:
    """One instance per template, named "<colour>_<type>", with "_2", "_3" for repeats."""
    specs: list[ObjectSpec] = []
    used: set[str] = set()
    for template in templates:
        spec = template.make(rng, "")
        base = f"{spec.colour}_{template.object_type}"
        name, count = base, 1
        while name in used:
            count += 1
            name = f"{base}_{count}"
        used.add(name)
        specs.append(replace(spec, name=name))
    return specs


def _place(
    rng: np.random.Generator, specs: list[ObjectSpec], flat_target: bool
) -> tuple[PlacedObject, ...] | None:
    """Positions for every object in order, or None when one does not fit."""
    placed: list[PlacedObject] = []
    radii: list[float] = []
    for index, spec in enumerate(specs):
        radius = footprint_radius(spec)
        # Candidates are drawn in one batch and the first free one is taken: same result as a
        # rejection loop, without a Python loop per try.
        xs = rng.uniform(PLACEMENT_X[0], PLACEMENT_X[1], size=_PLACEMENT_TRIES)  # float[T]
        # A flat target lies in the half nearer the edge it is pushed over, as a person would set it.
        y_low = 0.0 if flat_target and index == 0 else PLACEMENT_Y[0]
        ys = rng.uniform(y_low, PLACEMENT_Y[1], size=_PLACEMENT_TRIES)  # float[T]
        free = np.ones(_PLACEMENT_TRIES, dtype=bool)
        for other, other_radius in zip(placed, radii, strict=True):
            free &= np.hypot(xs - other.x, ys - other.y) >= radius + other_radius + MIN_GAP
        if flat_target and index > 0:
            free &= ~_blocks_push(xs, ys, radius, placed[0], radii[0])
        hits = np.flatnonzero(free)
        if len(hits) == 0:
            return None
        x, y = float(xs[hits[0]]), float(ys[hits[0]])
        yaw = float(rng.uniform(-math.pi, math.pi))
        placed.append(PlacedObject(spec, round(x, 4), round(y, 4), round(yaw, 4)))
        radii.append(radius)
    return tuple(placed)


def push_direction(target: PlacedObject) -> float:
    """+1: flat objects are pushed over the table's +y side edge.

    The -y edge has the drop bin right beside it (model.BIN_CENTER): an object pushed over that
    edge would rest on the bin's wall and leave no room for the thumb under it.
    """
    return PUSH_SIDE


def _blocks_push(
    xs: np.ndarray, ys: np.ndarray, radius: float, target: PlacedObject, target_radius: float
) -> np.ndarray:
    """bool[T]: whether an object at (xs, ys) float[T] stands in the flat target's push lane or hand slot."""
    side = push_direction(target)
    ahead = (ys - target.y) * side  # > 0: between the target and the edge it is pushed to
    dx = np.abs(xs - target.x)
    in_lane = (ahead > 0.0) & (dx < target_radius + radius + PUSH_LANE_GAP)
    in_slot = (
        (ahead > -(target_radius + HAND_SLOT_DEPTH + radius + MIN_GAP))
        & (ahead <= 0.0)
        & (dx < HAND_SLOT_HALF_WIDTH + radius + MIN_GAP)
    )
    return in_lane | in_slot
