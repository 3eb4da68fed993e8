"""The procedural object library: object types built from MuJoCo primitives, with sizes, masses and tags.

Each `ObjectTemplate` is one object *type* (apple, mug, book, ...). `template.make(rng, name)`
draws one instance: size, colour, mass and friction vary within believable ranges, so two
apples differ. Types are split like the paper's protocol: `SEEN_TYPES` appear in the `seen`,
`unseen-backgrounds` and `unseen-lighting` splits; `UNSEEN_TYPES` only in `unseen-objects`.
The two sets share no type. The unseen set holds out:
  - a shape: ellipsoids (pear, lemon, egg, potato, rugby ball) never appear among seen types;
  - categories: carton, vegetable, tool, toiletry, ball, tray, board are unseen-only;
  - colours: pink, purple, cyan and grey are unseen-only colour words;
  - sizes: smaller (3 cm dice) and taller (19-20 cm chips tube) than anything seen.

Object frame: the origin is where `rest_height` is measured from; the object stands upright
with its frame at z = TABLE_TOP_Z + rest_height, so every geom's lowest point touches the table.
Graspable objects are 3-8 cm across the grasp and 4-20 cm tall; flat objects are 12-20 cm wide
and 1-3 cm high and cannot be grasped from above (the push_then_grasp task).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dexagent.hardware.sim.scene_spec import GeomSpec, ObjectSpec

RGBA = tuple[float, float, float, float]

# Colour words a prompt may use, and how they look.
COLOURS: dict[str, RGBA] = {
    "red": (0.85, 0.10, 0.10, 1.0),
    "green": (0.12, 0.62, 0.20, 1.0),
    "blue": (0.10, 0.25, 0.85, 1.0),
    "yellow": (0.95, 0.85, 0.10, 1.0),
    "orange": (1.00, 0.50, 0.05, 1.0),
    "white": (0.95, 0.95, 0.92, 1.0),
    "black": (0.08, 0.08, 0.08, 1.0),
    "brown": (0.45, 0.28, 0.12, 1.0),
    # held out: only unseen object types use these
    "pink": (1.00, 0.45, 0.70, 1.0),
    "purple": (0.50, 0.15, 0.70, 1.0),
    "cyan": (0.10, 0.80, 0.85, 1.0),
    "grey": (0.50, 0.50, 0.52, 1.0),
}
UNSEEN_COLOURS = frozenset({"pink", "purple", "cyan", "grey"})

# MuJoCo quaternion (w, x, y, z) that lays a geom's z axis along the object's x axis.
_LYING = (math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0)
_CAP_RGBA: RGBA = (0.95, 0.95, 0.95, 1.0)
_STEM_RGBA: RGBA = (0.30, 0.20, 0.08, 1.0)

# A builder draws the geoms of one instance and returns them with the instance's rest height.
Builder = Callable[[np.random.Generator], tuple[tuple[GeomSpec, ...], float]]


@dataclass(frozen=True)
class ObjectTemplate:
    """One object type of the library; `make` draws an instance."""

    object_type: str  # apple, mug, ...; unique in the library
    category: str
    colours: tuple[str, ...]
    mass_range: tuple[float, float]  # kg
    build: Builder
    food: bool = False
    flat: bool = False
    friction_range: tuple[float, float] = (0.8, 1.2)

    def make(self, rng: np.random.Generator, name: str) -> ObjectSpec:
        """One instance named `name`: geoms, colour, mass and friction drawn from `rng`."""
        geoms, rest_height = self.build(rng)
        colour = self.colours[int(rng.integers(len(self.colours)))]
        tags = {self.category, colour, self.object_type}
        if self.food:
            tags.add("food")
        if self.flat:
            tags.add("flat")
        return ObjectSpec(
            name=name,
            category=self.category,
            colour=colour,
            rgba=COLOURS[colour],
            geoms=geoms,
            mass=round(float(rng.uniform(*self.mass_range)), 3),
            friction=round(float(rng.uniform(*self.friction_range)), 3),
            tags=frozenset(tags),
            rest_height=rest_height,
            flat=self.flat,
            object_type=self.object_type,
        )


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return round(float(rng.uniform(low, high)), 4)


# --- builders: sizes follow MuJoCo (half-extents for boxes, radius + half-height for cylinders) ---


def _sphere(r: tuple[float, float], stem: bool = False) -> Builder:
    def build(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
        radius = _u(rng, *r)
        geoms = [GeomSpec("sphere", (radius,))]
        if stem:  # a fruit's stalk, so the top view is not a plain ball
            geoms.append(GeomSpec("cylinder", (0.003, 0.008), (0.0, 0.0, radius + 0.004), rgba=_STEM_RGBA))
        return tuple(geoms), radius

    return build


def _cylinder(r: tuple[float, float], half_h: tuple[float, float], lid: bool = False) -> Builder:
    def build(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
        radius, half_height = _u(rng, *r), _u(rng, *half_h)
        geoms = [GeomSpec("cylinder", (radius, half_height))]
        if lid:  # a can's silver lid
            lid_geom = GeomSpec("cylinder", (radius * 0.9, 0.002), (0.0, 0.0, half_height), rgba=_CAP_RGBA)
            geoms.append(lid_geom)
        return tuple(geoms), half_height

    return build


def _box(hx: tuple[float, float], hy: tuple[float, float], hz: tuple[float, float]) -> Builder:
    def build(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
        half = (_u(rng, *hx), _u(rng, *hy), _u(rng, *hz))
        return (GeomSpec("box", half),), half[2]

    return build


def _cube(half: tuple[float, float]) -> Builder:
    def build(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
        h = _u(rng, *half)
        return (GeomSpec("box", (h, h, h)),), h

    return build


def _lying_capsule(r: tuple[float, float], half_len: tuple[float, float]) -> Builder:
    def build(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
        radius, half_length = _u(rng, *r), _u(rng, *half_len)
        return (GeomSpec("capsule", (radius, half_length), quat=_LYING),), radius

    return build


def _ellipsoid(ax: tuple[float, float], ay: tuple[float, float], az: tuple[float, float]) -> Builder:
    """Semi-axes x > y > z: an ellipsoid rests stably on its flattest side only (eggs lie down)."""

    def build(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
        semi = (_u(rng, *ax), _u(rng, *ay), _u(rng, *az))
        return (GeomSpec("ellipsoid", semi),), semi[2]

    return build


def _mug(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
    radius, half_height = _u(rng, 0.032, 0.04), _u(rng, 0.042, 0.05)
    # The handle is a thin upright slab just outside the wall, on the object's +x side.
    handle = GeomSpec("box", (0.008, 0.005, half_height * 0.6), (radius + 0.008, 0.0, 0.0))
    return (GeomSpec("cylinder", (radius, half_height)), handle), half_height


def _bottle(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
    radius, half_body = _u(rng, 0.028, 0.036), _u(rng, 0.055, 0.07)
    neck_r, half_neck, half_cap = radius * 0.45, _u(rng, 0.012, 0.02), 0.008
    neck = GeomSpec("cylinder", (neck_r, half_neck), (0.0, 0.0, half_body + half_neck))
    cap_z = half_body + 2 * half_neck + half_cap
    cap = GeomSpec("cylinder", (neck_r * 1.15, half_cap), (0.0, 0.0, cap_z), rgba=_CAP_RGBA)
    return (GeomSpec("cylinder", (radius, half_body)), neck, cap), half_body


def _duck(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
    half_len, half_w = _u(rng, 0.04, 0.05), _u(rng, 0.028, 0.034)
    half_h = half_w * 0.8
    head_r = half_w * 0.7
    head = GeomSpec("sphere", (head_r,), (half_len * 0.55, 0.0, half_h + head_r * 0.6))
    beak = GeomSpec("box", (0.01, 0.006, 0.004), (half_len * 0.55 + head_r, 0.0, half_h + head_r * 0.5))
    # A flat base under the round body: the head's weight would otherwise rock it forward.
    base = GeomSpec("box", (half_len * 0.6, half_w * 0.6, 0.003), (0.0, 0.0, 0.003 - half_h))
    return (GeomSpec("ellipsoid", (half_len, half_w, half_h)), head, beak, base), half_h


def _spray_bottle(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
    hx, hy, hz = _u(rng, 0.025, 0.03), _u(rng, 0.018, 0.022), _u(rng, 0.06, 0.07)
    nozzle = GeomSpec("box", (0.018, 0.008, 0.015), (0.006, 0.0, hz + 0.015), rgba=_CAP_RGBA)
    return (GeomSpec("box", (hx, hy, hz)), nozzle), hz


def _dumbbell(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
    bar_r, half_bar, weight_half = 0.014, _u(rng, 0.04, 0.05), _u(rng, 0.024, 0.028)
    # The frame sits on the bar's axis; square weights (like hex dumbbells) stop it rolling away.
    bar = GeomSpec("cylinder", (bar_r, half_bar), quat=_LYING)
    weights = tuple(
        GeomSpec("box", (0.014, weight_half, weight_half), (side * half_bar, 0.0, 0.0)) for side in (-1, 1)
    )
    return (bar, *weights), weight_half


def _toy_robot(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
    half_body = _u(rng, 0.025, 0.03)
    head = GeomSpec("box", (0.018, 0.018, 0.016), (0.0, 0.0, half_body + 0.016), rgba=_CAP_RGBA)
    return (GeomSpec("box", (0.022, 0.03, half_body)), head), half_body


def _plate(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
    radius, half_height = _u(rng, 0.08, 0.095), _u(rng, 0.008, 0.011)
    return (GeomSpec("cylinder", (radius, half_height)),), half_height


def _frisbee(rng: np.random.Generator) -> tuple[tuple[GeomSpec, ...], float]:
    radius, half_height = _u(rng, 0.085, 0.1), _u(rng, 0.009, 0.012)
    rim = GeomSpec("cylinder", (radius * 0.6, 0.002), (0.0, 0.0, half_height), rgba=_CAP_RGBA)
    return (GeomSpec("cylinder", (radius, half_height)), rim), half_height


SEEN_TYPES: tuple[ObjectTemplate, ...] = (
    ObjectTemplate(
        "apple", "fruit", ("red", "green", "yellow"), (0.12, 0.2), _sphere((0.035, 0.04), True), True
    ),
    ObjectTemplate("orange", "fruit", ("orange",), (0.13, 0.2), _sphere((0.034, 0.039), True), True),
    ObjectTemplate(
        "banana", "fruit", ("yellow",), (0.1, 0.15), _lying_capsule((0.017, 0.02), (0.055, 0.07)), True
    ),
    ObjectTemplate(
        "soda_can",
        "can",
        ("red", "blue", "green", "black"),
        (0.15, 0.35),
        _cylinder((0.032, 0.034), (0.055, 0.062), lid=True),
        True,
    ),
    ObjectTemplate("juice_bottle", "bottle", ("orange", "yellow", "red"), (0.2, 0.4), _bottle, True),
    ObjectTemplate("water_bottle", "bottle", ("blue", "white", "green"), (0.15, 0.35), _bottle),
    ObjectTemplate("mug", "cup", ("white", "red", "blue", "black", "yellow"), (0.2, 0.35), _mug),
    ObjectTemplate(
        "snack_box",
        "snack",
        ("red", "yellow", "blue", "orange"),
        (0.06, 0.15),
        _box((0.018, 0.024), (0.03, 0.04), (0.045, 0.06)),
        True,
    ),
    ObjectTemplate(
        "cookie_pack",
        "snack",
        ("brown", "blue", "green"),
        (0.08, 0.2),
        _box((0.025, 0.032), (0.05, 0.065), (0.02, 0.026)),
        True,
    ),
    ObjectTemplate(
        "toy_block", "toy", ("red", "green", "blue", "yellow"), (0.05, 0.12), _cube((0.022, 0.03))
    ),
    ObjectTemplate("rubber_duck", "toy", ("yellow", "orange", "white"), (0.03, 0.08), _duck),
    ObjectTemplate(
        "paper_cup",
        "cup",
        ("white", "brown", "green"),
        (0.03, 0.08),
        _cylinder((0.03, 0.036), (0.045, 0.055)),
    ),
    # flat: cannot be grasped from above
    ObjectTemplate("plate", "plate", ("white", "blue", "yellow"), (0.15, 0.3), _plate, flat=True),
    ObjectTemplate(
        "book",
        "book",
        ("red", "blue", "green", "black", "brown"),
        (0.2, 0.35),
        _box((0.065, 0.075), (0.09, 0.1), (0.009, 0.013)),
        flat=True,
    ),
    ObjectTemplate(
        "cereal_box_flat",
        "box",
        ("yellow", "red", "orange"),
        (0.15, 0.3),
        _box((0.06, 0.07), (0.08, 0.095), (0.012, 0.015)),
        True,
        flat=True,
    ),
)

UNSEEN_TYPES: tuple[ObjectTemplate, ...] = (
    ObjectTemplate(
        "pear",
        "fruit",
        ("green", "yellow"),
        (0.12, 0.2),
        _ellipsoid((0.045, 0.05), (0.033, 0.036), (0.029, 0.031)),
        True,
    ),
    ObjectTemplate(
        "lemon",
        "fruit",
        ("yellow",),
        (0.08, 0.13),
        _ellipsoid((0.03, 0.035), (0.026, 0.029), (0.022, 0.024)),
        True,
    ),
    ObjectTemplate(
        "egg",
        "food",
        ("white", "brown"),
        (0.05, 0.07),
        _ellipsoid((0.028, 0.03), (0.021, 0.022), (0.018, 0.019)),
        True,
    ),
    ObjectTemplate(
        "potato",
        "vegetable",
        ("brown",),
        (0.15, 0.25),
        _ellipsoid((0.045, 0.055), (0.03, 0.035), (0.024, 0.028)),
        True,
    ),
    ObjectTemplate(
        "rugby_ball",
        "ball",
        ("brown", "pink"),
        (0.08, 0.15),
        _ellipsoid((0.06, 0.07), (0.036, 0.04), (0.03, 0.033)),
    ),
    ObjectTemplate("tennis_ball", "ball", ("yellow", "green", "pink"), (0.05, 0.06), _sphere((0.032, 0.034))),
    ObjectTemplate(
        "milk_carton",
        "carton",
        ("white", "cyan", "pink"),
        (0.2, 0.4),
        _box((0.03, 0.035), (0.03, 0.035), (0.08, 0.095)),
        True,
    ),
    ObjectTemplate(
        "chips_tube",
        "snack",
        ("red", "green", "purple"),
        (0.15, 0.3),
        _cylinder((0.036, 0.038), (0.095, 0.1)),
        True,
    ),
    ObjectTemplate("dice", "toy", ("red", "white", "purple"), (0.03, 0.05), _cube((0.015, 0.017))),
    ObjectTemplate("dumbbell", "tool", ("grey", "black", "purple"), (0.25, 0.4), _dumbbell),
    ObjectTemplate("spray_bottle", "toiletry", ("cyan", "pink", "white"), (0.15, 0.3), _spray_bottle),
    ObjectTemplate("toy_robot", "toy", ("grey", "cyan", "purple"), (0.08, 0.15), _toy_robot),
    ObjectTemplate("glass", "cup", ("cyan", "grey"), (0.15, 0.25), _cylinder((0.03, 0.034), (0.05, 0.06))),
    # flat
    ObjectTemplate("frisbee", "toy", ("pink", "purple", "orange"), (0.1, 0.18), _frisbee, flat=True),
    ObjectTemplate(
        "tray",
        "tray",
        ("grey", "black", "cyan"),
        (0.15, 0.3),
        _box((0.07, 0.08), (0.085, 0.1), (0.008, 0.011)),
        flat=True,
    ),
    ObjectTemplate(
        "cutting_board",
        "board",
        ("brown", "white"),
        (0.2, 0.35),
        _box((0.07, 0.08), (0.09, 0.1), (0.01, 0.013)),
        flat=True,
    ),
)


def templates_for(unseen_objects: bool, flat: bool) -> tuple[ObjectTemplate, ...]:
    """The templates of one pool: seen or unseen types, graspable or flat ones."""
    library = UNSEEN_TYPES if unseen_objects else SEEN_TYPES
    return tuple(t for t in library if t.flat == flat)


def geom_extent(geom: GeomSpec) -> tuple[float, float, float]:
    """(reach from the object's vertical axis, lowest z, highest z) of one geom in the object frame (m)."""
    kind, size = geom.kind, geom.size
    pos = np.array(geom.pos)
    if kind == "sphere":
        r = size[0]
        return math.hypot(pos[0], pos[1]) + r, pos[2] - r, pos[2] + r
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
    if kind == "capsule":  # a segment along local z, swept by a sphere
        points, pad = signs * np.array([0.0, 0.0, size[1]]), size[0]
    else:  # a bounding box's corners bound every shape inside it
        half = np.array(size[:3]) if kind in ("box", "ellipsoid") else np.array([size[0], size[0], size[1]])
        points, pad = signs * half, 0.0
    rotated = points @ _rotation(geom.quat).T + pos
    reach = float(np.max(np.hypot(rotated[:, 0], rotated[:, 1]))) + pad
    if kind in ("cylinder", "ellipsoid") and _is_upright(geom.quat):
        # Round cross-section about z: the exact reach is its larger semi-axis, not a box corner.
        reach = math.hypot(pos[0], pos[1]) + float(max(size[0], size[1] if kind == "ellipsoid" else size[0]))
    return reach, float(rotated[:, 2].min()) - pad, float(rotated[:, 2].max()) + pad


def footprint_radius(spec: ObjectSpec) -> float:
    """Radius (m) of a circle about the object's origin that covers it seen from above."""
    return max(geom_extent(g)[0] for g in spec.geoms)


def object_height(spec: ObjectSpec) -> float:
    """Height (m) of the object's top above the table when it rests upright."""
    return spec.rest_height + max(geom_extent(g)[2] for g in spec.geoms)


def _is_upright(quat: tuple[float, float, float, float]) -> bool:
    return abs(abs(quat[0]) - 1.0) < 1e-9


def _rotation(quat: tuple[float, float, float, float]) -> np.ndarray:
    """Rotation matrix float[3,3] of a unit MuJoCo quaternion (w, x, y, z)."""
    w, x, y, z = quat
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )
