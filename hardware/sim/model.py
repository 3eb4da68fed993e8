"""The MuJoCo model of one scene: the embodiment (embodiment.py), table, bin, cameras, lights, objects.

Built as MJCF text from a `SceneSpec`; `build_model(None)` is the bare robot and table
(used for IK). Robot constants are re-exported here for callers that only need one import.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from dexagent.hardware.sim.embodiment import (
    ARM_HOME,
    ARM_JOINTS,
    ARM_KP,
    ARM_LIMITS,
    CONTROL_HZ,
    HAND_ACTUATORS,
    HAND_CLOSED_ANGLE,
    HAND_FRICTION,
    HAND_JOINTS,
    HAND_KP,
    SUBSTEPS,
    TIMESTEP,
    actuators_xml,
    arm_xml,
    couplings_xml,
    fmt,
)
from dexagent.hardware.sim.scene_spec import (
    DEFAULT_IMAGE_SIZE,
    TABLE_TOP_Z,
    TABLE_X,
    TABLE_Y,
    Background,
    GeomSpec,
    Lighting,
    SceneSpec,
)

__all__ = [
    "ARM_HOME",
    "ARM_JOINTS",
    "ARM_KP",
    "ARM_LIMITS",
    "BIN_CENTER",
    "BIN_FLOOR_Z",
    "BIN_HALF",
    "CONTROL_HZ",
    "HAND_ACTUATORS",
    "HAND_CLOSED_ANGLE",
    "HAND_JOINTS",
    "HAND_KP",
    "SUBSTEPS",
    "TIMESTEP",
    "build_model",
    "model_xml",
]

BIN_CENTER = (0.45, -0.49)  # beside the table's right (-y) edge, reachable from the base
BIN_HALF = (0.2, 0.09)
BIN_FLOOR_Z = -0.08
HEAD_CAMERA_POS = (1.05, 0.0, 0.78)
HEAD_CAMERA_TARGET = (0.47, 0.0, 0.0)


def _look_at_xyaxes(pos: tuple[float, float, float], target: tuple[float, float, float]) -> str:
    """MJCF `xyaxes` for a camera at `pos` looking at `target` with world z up in the image."""
    forward = np.subtract(target, pos).astype(float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return fmt(np.concatenate([right, up]))


def _geom_xml(geom: GeomSpec, name: str, rgba: tuple[float, ...], friction: float) -> str:
    colour = geom.rgba if geom.rgba is not None else rgba
    return (
        f'<geom name="{name}" class="object" type="{geom.kind}" size="{fmt(geom.size)}" '
        f'pos="{fmt(geom.pos)}" quat="{fmt(geom.quat)}" rgba="{fmt(colour)}" '
        f'friction="{friction:.4g} 0.01 0.001"/>'
    )


def _objects_xml(scene: SceneSpec) -> str:
    bodies = []
    for i, placed in enumerate(scene.objects):
        spec = placed.spec
        quat = fmt([math.cos(placed.yaw / 2), 0.0, 0.0, math.sin(placed.yaw / 2)])
        pos = fmt([placed.x, placed.y, TABLE_TOP_Z + spec.rest_height])
        # Spread the mass over the geoms by volume-free density: MuJoCo rescales via `mass` below.
        geoms = "\n".join(
            _geom_xml(g, f"object{i}_geom{k}", spec.rgba, spec.friction) for k, g in enumerate(spec.geoms)
        )
        bodies.append(
            f'<body name="object{i}" pos="{pos}" quat="{quat}">\n'
            f'<freejoint name="object{i}_free"/>\n{geoms}\n</body>'
        )
    return "\n".join(bodies)


def _background_xml(background: Background) -> str:
    builtin = {"flat": "flat", "checker": "checker", "gradient": "gradient", "noise": "flat"}[
        background.texture
    ]
    noise = ' mark="random" random="0.25"' if background.texture == "noise" else ""
    return (
        f'<texture name="table_texture" type="2d" builtin="{builtin}" width="256" height="256" '
        f'rgb1="{fmt(background.rgb1)}" rgb2="{fmt(background.rgb2)}" markrgb="{fmt(background.rgb2)}"'
        f"{noise}/>\n"
        f'<material name="table_material" texture="table_texture" texrepeat="{fmt(background.repeat)}" '
        f'texuniform="false" specular="0.1" shininess="0.1"/>'
    )


def _lights_xml(lighting: Lighting) -> str:
    return "\n".join(
        f'<light name="light{i}" pos="{fmt(light.pos)}" dir="{fmt(light.direction)}" '
        f'diffuse="{fmt(light.diffuse)}" ambient="{fmt(light.ambient)}" specular="0.1 0.1 0.1" '
        f'castshadow="false"/>'
        for i, light in enumerate(lighting.lights)
    )


def _bin_xml() -> str:
    cx, cy = BIN_CENTER
    hx, hy = BIN_HALF
    wall = 0.006
    wall_h = (TABLE_TOP_Z - BIN_FLOOR_Z) / 2
    wall_z = BIN_FLOOR_Z + wall_h
    boxes = [
        ((hx, hy, 0.005), (0.0, 0.0, BIN_FLOOR_Z - 0.005)),  # floor
        ((hx, wall, wall_h), (0.0, hy, wall_z)),
        ((hx, wall, wall_h), (0.0, -hy, wall_z)),
        ((wall, hy, wall_h), (hx, 0.0, wall_z)),
        ((wall, hy, wall_h), (-hx, 0.0, wall_z)),
    ]
    geoms = "\n".join(
        f'<geom class="scenery" type="box" size="{fmt(size)}" pos="{fmt(pos)}" rgba="0.35 0.3 0.25 1"/>'
        for size, pos in boxes
    )
    return f'<body name="bin" pos="{cx} {cy} 0">\n{geoms}\n</body>'


def model_xml(
    scene: SceneSpec | None, *, image_size: int = DEFAULT_IMAGE_SIZE, with_objects: bool = True
) -> str:
    """The MJCF text for the robot, table, bin, cameras and (optionally) the scene's objects and looks.

    `scene=None` builds the bare embodiment (white table, white light): used for IK.
    """
    table_cx = (TABLE_X[0] + TABLE_X[1]) / 2
    table_cy = (TABLE_Y[0] + TABLE_Y[1]) / 2
    table_hx = (TABLE_X[1] - TABLE_X[0]) / 2
    table_hy = (TABLE_Y[1] - TABLE_Y[0]) / 2
    if scene is None:
        background = Background("white", "flat", (0.92, 0.92, 0.9), (0.92, 0.92, 0.9))
        lights = (
            '<light name="light0" pos="0.5 0 1.5" dir="0 0 -1" diffuse="0.8 0.8 0.8" castshadow="false"/>'
        )
        objects = ""
    else:
        background = scene.background
        lights = _lights_xml(scene.lighting)
        objects = _objects_xml(scene) if with_objects else ""
    offscreen = max(640, image_size)
    head_axes = _look_at_xyaxes(HEAD_CAMERA_POS, HEAD_CAMERA_TARGET)
    return f"""
<mujoco model="dexagent">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{TIMESTEP}" integrator="implicitfast" cone="elliptic" impratio="10"/>
  <visual>
    <global offwidth="{offscreen}" offheight="{offscreen}"/>
    <quality shadowsize="0" offsamples="0"/>
    <headlight ambient="0.08 0.08 0.08" diffuse="0.1 0.1 0.1" specular="0 0 0"/>
  </visual>
  <default>
    <geom condim="4" solref="0.01 1" solimp="0.95 0.99 0.001"/>
    <default class="robot">
      <joint damping="40" armature="0.1"/>
      <geom contype="2" conaffinity="1" rgba="0.8 0.8 0.82 1" density="800"
            friction="{HAND_FRICTION} 0.01 0.001"/>
    </default>
    <default class="hand">
      <geom contype="2" conaffinity="1" rgba="0.2 0.2 0.22 1" density="600"
            friction="{HAND_FRICTION} 0.01 0.001"/>
    </default>
    <default class="finger">
      <joint axis="0 1 0" damping="0.05" armature="0.001"/>
    </default>
    <default class="thumb">
      <joint damping="0.1" armature="0.001"/>
    </default>
    <default class="object">
      <geom contype="1" conaffinity="1" density="400"/>
    </default>
    <default class="scenery">
      <geom contype="1" conaffinity="1" friction="0.8 0.01 0.001"/>
    </default>
  </default>
  <asset>
    {_background_xml(background)}
  </asset>
  <worldbody>
    {lights}
    <geom name="floor" type="plane" size="3 3 0.1" pos="0 0 -0.75" rgba="0.45 0.45 0.47 1" contype="0"
          conaffinity="0"/>
    <geom name="table" class="scenery" type="box" size="{table_hx} {table_hy} 0.025"
          pos="{table_cx} {table_cy} {TABLE_TOP_Z - 0.025}" material="table_material"/>
    <camera name="head" pos="{fmt(HEAD_CAMERA_POS)}" xyaxes="{head_axes}" fovy="50"/>
    {_bin_xml()}
    {arm_xml()}
    {objects}
  </worldbody>
  {couplings_xml()}
  {actuators_xml()}
</mujoco>
"""


def build_model(
    scene: SceneSpec | None, *, image_size: int = DEFAULT_IMAGE_SIZE, with_objects: bool = True
) -> mujoco.MjModel:
    """Compile the scene's model; object masses are set from the spec after compiling."""
    model = mujoco.MjModel.from_xml_string(model_xml(scene, image_size=image_size, with_objects=with_objects))
    if scene is not None and with_objects:
        for i, placed in enumerate(scene.objects):
            body = model.body(f"object{i}").id
            # Scale the density-derived inertia so mass matches the spec (keeps the inertia's shape).
            scale = placed.spec.mass / model.body_mass[body]
            model.body_mass[body] = placed.spec.mass
            model.body_inertia[body] *= scale
        # Recompute the derived constants (body_invweight0 scales contact softness): stale ones
        # from the density-based masses make light objects' contacts unstable.
        mujoco.mj_setConst(model, mujoco.MjData(model))
    return model
