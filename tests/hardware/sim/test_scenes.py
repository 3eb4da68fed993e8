"""The procedural scene library: determinism, splits, placement, tags and argument errors."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

from dexagent.hardware.sim.domains import UNSEEN_BACKGROUNDS, UNSEEN_LIGHTINGS, WHITE_LIGHT, WHITE_TABLE
from dexagent.hardware.sim.objects import (
    COLOURS,
    SEEN_TYPES,
    UNSEEN_COLOURS,
    UNSEEN_TYPES,
    footprint_radius,
    geom_extent,
    object_height,
)
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scene_spec import PLACEMENT_X, PLACEMENT_Y, SPLITS, PlacedObject, SceneSpec
from dexagent.hardware.sim.scenes import MIN_GAP, SceneError, push_direction, sample_scene

SEEDS = range(16)


@cache
def _all_scenes(flat_target: bool = False, n_objects: int = 6) -> list[SceneSpec]:
    return [sample_scene(s, split, n_objects, flat_target=flat_target) for split in SPLITS for s in SEEDS]


def test_same_seed_and_split_give_the_same_scene() -> None:
    for split in SPLITS:
        assert sample_scene(7, split) == sample_scene(7, split)
        assert sample_scene(7, split, 3, flat_target=True) == sample_scene(7, split, 3, flat_target=True)


def test_different_seeds_give_different_scenes() -> None:
    layouts = {tuple((p.spec.name, p.x, p.y) for p in sample_scene(s).objects) for s in SEEDS}
    assert len(layouts) == len(SEEDS)


def test_seen_and_unseen_object_types_are_disjoint() -> None:
    seen = {t.object_type for t in SEEN_TYPES}
    unseen = {t.object_type for t in UNSEEN_TYPES}
    assert seen and unseen and not seen & unseen
    # held-out shape (ellipsoid body) and held-out colours never appear among seen types
    rng = np.random.default_rng(0)
    for template in SEEN_TYPES:
        assert not set(template.colours) & UNSEEN_COLOURS, template.object_type
        spec = template.make(rng, "probe")
        assert spec.geoms[0].kind != "ellipsoid" or template.object_type == "rubber_duck"
    assert {c for t in UNSEEN_TYPES for c in t.colours} & UNSEEN_COLOURS


def test_each_split_draws_objects_from_its_own_pool() -> None:
    seen = {t.object_type for t in SEEN_TYPES}
    unseen = {t.object_type for t in UNSEEN_TYPES}
    for flat_target in (False, True):
        for scene in _all_scenes(flat_target):
            pool = unseen if scene.split == "unseen-objects" else seen
            assert {p.spec.object_type for p in scene.objects} <= pool, scene.split


def test_backgrounds_and_lightings_follow_the_split() -> None:
    for split in SPLITS:
        scenes = [sample_scene(s, split, 1) for s in range(60)]
        backgrounds = {sc.background for sc in scenes}
        lightings = {sc.lighting for sc in scenes}
        if split == "unseen-backgrounds":
            assert backgrounds == set(UNSEEN_BACKGROUNDS) and len(backgrounds) == 6
            assert WHITE_TABLE not in backgrounds
        else:
            assert backgrounds == {WHITE_TABLE}
        if split == "unseen-lighting":
            assert lightings == set(UNSEEN_LIGHTINGS) and len(lightings) == 3
            assert any(light.moving for light in lightings)
        else:
            assert lightings == {WHITE_LIGHT}


def test_objects_lie_inside_the_region_without_overlap_and_with_a_hand_gap() -> None:
    for n_objects in (1, 6, 8):
        for scene in _all_scenes(n_objects=n_objects):
            assert len(scene.objects) == n_objects
            for i, a in enumerate(scene.objects):
                assert PLACEMENT_X[0] <= a.x <= PLACEMENT_X[1] and PLACEMENT_Y[0] <= a.y <= PLACEMENT_Y[1]
                assert -math.pi <= a.yaw <= math.pi
                for b in scene.objects[i + 1 :]:
                    reach = footprint_radius(a.spec) + footprint_radius(b.spec)
                    gap = math.hypot(a.x - b.x, a.y - b.y) - reach
                    assert gap >= MIN_GAP - 1e-3, (scene.seed, a.spec.name, b.spec.name)


def test_flat_target_comes_first_and_its_push_lane_is_free() -> None:
    for scene in _all_scenes(flat_target=True):
        target, others = scene.objects[0], scene.objects[1:]
        assert target.spec.flat and "flat" in target.spec.tags
        assert not any(p.spec.flat for p in others)
        side, reach = push_direction(target), footprint_radius(target.spec)
        for other in others:
            ahead = (other.y - target.y) * side
            if ahead > 0:  # between the target and the edge it is pushed to: beside the lane
                assert abs(other.x - target.x) >= reach + footprint_radius(other.spec), (scene.seed, other)


def test_default_scenes_hold_only_graspable_objects() -> None:
    assert not any(p.spec.flat for scene in _all_scenes() for p in scene.objects)


def test_names_are_unique_and_tags_carry_category_colour_food_and_flat() -> None:
    for scene in _all_scenes(flat_target=True) + _all_scenes(n_objects=8):
        names = [p.spec.name for p in scene.objects]
        assert len(set(names)) == len(names)
        for placed in scene.objects:
            spec = placed.spec
            assert spec.name.startswith(f"{spec.colour}_{spec.object_type}")
            assert {spec.category, spec.colour, spec.object_type} <= spec.tags
            assert ("flat" in spec.tags) == spec.flat
            assert spec.rgba == COLOURS[spec.colour]
    food = {t.object_type for t in SEEN_TYPES + UNSEEN_TYPES if t.food}
    assert {"apple", "banana", "soda_can", "juice_bottle", "snack_box"} <= food
    assert not {"mug", "toy_block", "water_bottle", "book", "plate"} & food


@pytest.mark.parametrize("template", SEEN_TYPES + UNSEEN_TYPES, ids=lambda t: t.object_type)
def test_every_type_has_believable_size_mass_friction_and_rest_height(template) -> None:  # noqa: ANN001
    rng = np.random.default_rng(3)
    for _ in range(20):
        spec = template.make(rng, "probe")
        lowest = min(geom_extent(g)[1] for g in spec.geoms)
        assert spec.rest_height + lowest == pytest.approx(0.0, abs=1e-6), "must rest on the table"
        assert 0.03 <= spec.mass <= 0.4
        assert 0.8 <= spec.friction <= 1.2
        height, reach = object_height(spec), footprint_radius(spec)
        if spec.flat:
            assert 0.12 <= 2 * reach <= 0.26 and 0.01 <= height <= 0.03  # wide and low
        else:
            assert 0.015 <= reach <= 0.095 and 0.03 <= height <= 0.2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"split": "unseen-table"}, "valid splits: seen, unseen-objects, unseen-backgrounds, unseen-lig"),
        ({"n_objects": 0}, "1..8"),
        ({"n_objects": 9}, "1..8"),
        ({"n_objects": True}, "1..8"),
        ({"n_objects": 7, "flat_target": True}, "1..6 with flat_target=True"),
        ({"seed": -1}, "non-negative"),
    ],
)
def test_bad_arguments_raise_scene_error_naming_the_valid_values(kwargs: dict, message: str) -> None:
    args = {"seed": 0, **kwargs}
    with pytest.raises(SceneError, match=message.replace(".", r"\.")):
        sample_scene(**args)
    with pytest.raises(ValueError):  # SceneError is also a ValueError for callers that catch those
        sample_scene(**args)


def _settled_offsets(scene: SceneSpec, seconds: float = 1.0) -> list[tuple[str, float, float]]:
    """(name, xy drift m, lowest point above the table m) per object after `seconds` at home."""
    robot = SimRobot(scene, image_size=16, cameras=())
    try:
        for _ in range(round(seconds * robot.spec.control_hz)):
            robot.act(robot.spec.home)
        return [
            (
                p.spec.name,
                float(np.hypot(*(robot.object_position(i)[:2] - (p.x, p.y)))),
                robot.object_height(i),
            )
            for i, p in enumerate(scene.objects)
        ]
    finally:
        robot.close()


def _grid_scene(templates: tuple, spacing: float, x0: float, y0: float, columns: int) -> SceneSpec:  # noqa: ANN001
    rng = np.random.default_rng(0)
    placed = tuple(
        PlacedObject(
            t.make(rng, t.object_type), x0 + (k // columns) * spacing, y0 + (k % columns) * spacing, 0.4
        )
        for k, t in enumerate(templates)
    )
    return SceneSpec(0, "seen", placed, WHITE_TABLE, WHITE_LIGHT)


def test_every_library_type_rests_still_on_the_table_in_mujoco() -> None:
    graspable = tuple(t for t in SEEN_TYPES + UNSEEN_TYPES if not t.flat)
    flats = tuple(t for t in SEEN_TYPES + UNSEEN_TYPES if t.flat)
    scenes = (_grid_scene(graspable, 0.12, 0.27, -0.25, 5), _grid_scene(flats, 0.24, 0.35, -0.24, 3))
    for scene in scenes:
        for name, drift, height in _settled_offsets(scene):
            assert drift < 0.004 and abs(height) < 0.004, (
                f"{name} moved {drift:.3f} m, bottom at {height:.3f} m"
            )


@pytest.mark.parametrize("split", SPLITS)
def test_sampled_scenes_load_in_mujoco_and_settle_where_placed(split: str) -> None:
    for scene in (sample_scene(1, split, 8), sample_scene(2, split, 6, flat_target=True)):
        for name, drift, height in _settled_offsets(scene, seconds=0.5):
            assert drift < 0.004 and abs(height) < 0.004, f"{split}: {name} moved {drift:.3f} m"
