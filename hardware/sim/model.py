"""The MuJoCo model of the embodiment and one scene, built from primitives as MJCF text.

The arm has RM75-like kinematics (7 revolute joints, alternating roll/pitch axes)
with the RM75's joint limits; links are somewhat longer than the real arm so the
whole placement area is reachable from a base at table height. The hand has six
position actuators (thumb rotation, thumb flexion, index, middle, ring, little);
each finger's distal joint is coupled to its proximal joint by an equality
constraint so one actuator curls the whole finger.

Hand frame ("palm"): z points out of the palm toward the fingertips (the approach
direction), the four fingers sit on the -x side and curl toward +x, the thumb sits
on the +x side and curls toward -x, so the hand pinches along x. The site
"grasp_site" marks the point between the fingertips where objects are held.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from dexagent.hardware.sim.scene_spec import (
    TABLE_TOP_Z,
    TABLE_X,
    TABLE_Y,
    Background,
    GeomSpec,
    Lighting,
    SceneSpec,
)

ARM_JOINTS = tuple(f"joint{i}" for i in range(1, 8))
# RM75 limits in radians (the compiler reads radians: see DESIGN.md, degrees silently break IK).
ARM_LIMITS = (3.1, 2.268, 3.1, 2.355, 3.1, 2.233, 6.28)
ARM_KP = (600.0, 600.0, 600.0, 600.0, 300.0, 300.0, 300.0)
HAND_ACTUATORS = ("thumb_rotation", "thumb_flexion", "index", "middle", "ring", "little")
# The joint each hand actuator drives (distal joints follow their proximal joint).
HAND_JOINTS = (
    "thumb_rotation",
    "thumb_proximal",
    "index_proximal",
    "middle_proximal",
    "ring_proximal",
    "little_proximal",
)
# Joint angle of each hand actuator at command 0 (closed); command 1 (open) is angle 0.
HAND_CLOSED_ANGLE = (1.2, 1.5, 1.6, 1.6, 1.6, 1.6)
HAND_KP = (8.0, 8.0, 3.0, 3.0, 3.0, 3.0)
# Arm home: hand above the table's near half, pointing down, out of the head camera's way.
ARM_HOME = (0.0, -0.35, 0.0, 2.2, 0.0, 1.3, 0.0)

TIMESTEP = 0.002
CONTROL_HZ = 20.0
SUBSTEPS = round(1.0 / (CONTROL_HZ * TIMESTEP))  # 25 physics steps per control tick

HAND_FRICTION = 1.3
BIN_CENTER = (0.45, -0.49)  # beside the table's right (-y) edge, reachable from the base
BIN_HALF = (0.2, 0.09)
BIN_FLOOR_Z = -0.08
HEAD_CAMERA_POS = (1.05, 0.0, 0.78)
HEAD_CAMERA_TARGET = (0.47, 0.0, 0.0)

# Link lengths (m): base to shoulder, shoulder to elbow, elbow to wrist, wrist to flange.
_SHOULDER_Z = 0.24
_UPPER_ARM = 0.36
_FOREARM = 0.34
_WRIST_TO_FLANGE = 0.08


def _fmt(values: tuple[float, ...] | list[float] | np.ndarray) -> str:
    return " ".join(f"{float(v):.6g}" for v in values)


def _look_at_xyaxes(pos: tuple[float, float, float], target: tuple[float, float, float]) -> str:
    """MJCF `xyaxes` for a camera at `pos` looking at `target` with world z up in the image."""
    forward = np.subtract(target, pos).astype(float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return _fmt(np.concatenate([right, up]))


def _arm_xml() -> str:
    """Arm bodies from the base to the flange; joints alternate roll (z) and pitch (y)."""
    limits = ARM_LIMITS
    return f"""
    <body name="base" pos="0 0 0" childclass="robot">
      <geom class="robot" type="cylinder" size="0.07 0.03" pos="0 0 0.03" rgba="0.25 0.25 0.28 1"/>
      <body name="link1" gravcomp="1" pos="0 0 0.06">
        <joint name="joint1" axis="0 0 1" range="{-limits[0]} {limits[0]}"/>
        <geom class="robot" type="capsule" fromto="0 0 0 0 0 {_SHOULDER_Z - 0.06}" size="0.05"/>
        <body name="link2" gravcomp="1" pos="0 0 {_SHOULDER_Z - 0.06}">
          <joint name="joint2" axis="0 1 0" range="{-limits[1]} {limits[1]}"/>
          <geom class="robot" type="capsule" fromto="0 0 0 0 0 {_UPPER_ARM * 0.5}" size="0.045"/>
          <body name="link3" gravcomp="1" pos="0 0 {_UPPER_ARM * 0.5}">
            <joint name="joint3" axis="0 0 1" range="{-limits[2]} {limits[2]}"/>
            <geom class="robot" type="capsule" fromto="0 0 0 0 0 {_UPPER_ARM * 0.5}" size="0.04"/>
            <body name="link4" gravcomp="1" pos="0 0 {_UPPER_ARM * 0.5}">
              <joint name="joint4" axis="0 1 0" range="{-limits[3]} {limits[3]}"/>
              <geom class="robot" type="capsule" fromto="0 0 0 0 0 {_FOREARM * 0.5}" size="0.038"/>
              <body name="link5" gravcomp="1" pos="0 0 {_FOREARM * 0.5}">
                <joint name="joint5" axis="0 0 1" range="{-limits[4]} {limits[4]}"/>
                <geom class="robot" type="capsule" fromto="0 0 0 0 0 {_FOREARM * 0.5}" size="0.034"/>
                <body name="link6" gravcomp="1" pos="0 0 {_FOREARM * 0.5}">
                  <joint name="joint6" axis="0 1 0" range="{-limits[5]} {limits[5]}"/>
                  <geom class="robot" type="capsule" fromto="0 0 0 0 0 {_WRIST_TO_FLANGE * 0.6}"
                        size="0.032"/>
                  <body name="link7" gravcomp="1" pos="0 0 {_WRIST_TO_FLANGE * 0.6}">
                    <joint name="joint7" axis="0 0 1" range="{-limits[6]} {limits[6]}"/>
                    <geom class="robot" type="cylinder" size="0.03 {_WRIST_TO_FLANGE * 0.2}"
                          pos="0 0 {_WRIST_TO_FLANGE * 0.2}"/>
                    {_hand_xml(_WRIST_TO_FLANGE * 0.4)}
                  </body>
                </body>
              </body>
            </body>
          </body>
        </body>
      </body>
    </body>"""


def _finger_xml(name: str, y: float, closed: float) -> str:
    """One finger on the -x side of the palm, splayed open by 0.35 rad, curling toward +x."""
    splay = -0.35
    quat = _fmt([math.cos(splay / 2), 0.0, math.sin(splay / 2), 0.0])
    return f"""
        <body name="{name}_proximal" gravcomp="1" pos="-0.012 {y} 0.09" quat="{quat}">
          <joint name="{name}_proximal" class="finger" range="0 {closed}"/>
          <geom class="hand" type="capsule" fromto="0 0 0 0 0 0.045" size="0.009"/>
          <body name="{name}_distal" gravcomp="1" pos="0 0 0.045">
            <joint name="{name}_distal" class="finger" range="0 {closed}"/>
            <geom class="hand" type="capsule" fromto="0 0 0 0 0 0.038" size="0.008"/>
          </body>
        </body>"""


def _hand_xml(flange_z: float) -> str:
    """The six-actuator hand mounted on the flange; see the module docstring for its frame."""
    fingers = "".join(
        _finger_xml(name, y, closed)
        for name, y, closed in zip(
            ("index", "middle", "ring", "little"),
            (0.033, 0.011, -0.011, -0.033),
            HAND_CLOSED_ANGLE[2:],
            strict=True,
        )
    )
    thumb_splay = 0.6
    thumb_quat = _fmt([math.cos(thumb_splay / 2), 0.0, math.sin(thumb_splay / 2), 0.0])
    return f"""
    <body name="palm" gravcomp="1" pos="0 0 {flange_z}">
      <geom class="hand" type="box" size="0.02 0.045 0.045" pos="0 0 0.045"/>
      <site name="grasp_site" pos="0.018 0 0.163" size="0.006" rgba="1 0 0 0.0"/>
      <camera name="wrist" pos="0 0.07 0.02" xyaxes="0 0.906 0.423 0.994 0.046 -0.098" fovy="75"/>
      {fingers}
      <body name="thumb_base" gravcomp="1" pos="0.026 0 0.06">
        <joint name="thumb_rotation" class="thumb" axis="0 0 -1" range="0 {HAND_CLOSED_ANGLE[0]}"/>
        <geom class="hand" type="sphere" size="0.012"/>
        <body name="thumb_proximal" gravcomp="1" pos="0 0 0" quat="{thumb_quat}">
          <joint name="thumb_proximal" class="thumb" axis="0 -1 0" range="0 {HAND_CLOSED_ANGLE[1]}"/>
          <geom class="hand" type="capsule" fromto="0 0 0 0 0 0.055" size="0.011"/>
          <body name="thumb_distal" gravcomp="1" pos="0 0 0.055">
            <joint name="thumb_distal" class="thumb" axis="0 -1 0" range="0 {HAND_CLOSED_ANGLE[1]}"/>
            <geom class="hand" type="capsule" fromto="0 0 0 0 0 0.045" size="0.0095"/>
          </body>
        </body>
      </body>
    </body>"""


def _actuators_xml() -> str:
    arm = "".join(
        f'<position name="{joint}" joint="{joint}" kp="{kp}" ctrlrange="{-lim} {lim}"/>\n'
        for joint, kp, lim in zip(ARM_JOINTS, ARM_KP, ARM_LIMITS, strict=True)
    )
    hand = "".join(
        f'<position name="{name}" joint="{joint}" kp="{kp}" ctrlrange="0 {closed}"/>\n'
        for name, joint, kp, closed in zip(
            HAND_ACTUATORS, HAND_JOINTS, HAND_KP, HAND_CLOSED_ANGLE, strict=True
        )
    )
    return f"<actuator>\n{arm}{hand}</actuator>"


def _couplings_xml() -> str:
    pairs = [("thumb_distal", "thumb_proximal")]
    pairs += [(f"{f}_distal", f"{f}_proximal") for f in ("index", "middle", "ring", "little")]
    lines = "".join(
        f'<joint joint1="{a}" joint2="{b}" polycoef="0 1 0 0 0" solref="0.005 1"/>\n' for a, b in pairs
    )
    return f"<equality>\n{lines}</equality>"


def _geom_xml(geom: GeomSpec, name: str, rgba: tuple[float, ...], friction: float) -> str:
    colour = geom.rgba if geom.rgba is not None else rgba
    return (
        f'<geom name="{name}" class="object" type="{geom.kind}" size="{_fmt(geom.size)}" '
        f'pos="{_fmt(geom.pos)}" quat="{_fmt(geom.quat)}" rgba="{_fmt(colour)}" '
        f'friction="{friction:.4g} 0.01 0.001"/>'
    )


def _objects_xml(scene: SceneSpec) -> str:
    bodies = []
    for i, placed in enumerate(scene.objects):
        spec = placed.spec
        quat = _fmt([math.cos(placed.yaw / 2), 0.0, 0.0, math.sin(placed.yaw / 2)])
        pos = _fmt([placed.x, placed.y, TABLE_TOP_Z + spec.rest_height])
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
        f'rgb1="{_fmt(background.rgb1)}" rgb2="{_fmt(background.rgb2)}" markrgb="{_fmt(background.rgb2)}"'
        f"{noise}/>\n"
        f'<material name="table_material" texture="table_texture" texrepeat="{_fmt(background.repeat)}" '
        f'texuniform="false" specular="0.1" shininess="0.1"/>'
    )


def _lights_xml(lighting: Lighting) -> str:
    return "\n".join(
        f'<light name="light{i}" pos="{_fmt(light.pos)}" dir="{_fmt(light.direction)}" '
        f'diffuse="{_fmt(light.diffuse)}" ambient="{_fmt(light.ambient)}" specular="0.1 0.1 0.1" '
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
        f'<geom class="scenery" type="box" size="{_fmt(size)}" pos="{_fmt(pos)}" rgba="0.35 0.3 0.25 1"/>'
        for size, pos in boxes
    )
    return f'<body name="bin" pos="{cx} {cy} 0">\n{geoms}\n</body>'


def model_xml(scene: SceneSpec | None, *, image_size: int = 224, with_objects: bool = True) -> str:
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
    <camera name="head" pos="{_fmt(HEAD_CAMERA_POS)}" xyaxes="{head_axes}" fovy="50"/>
    {_bin_xml()}
    {_arm_xml()}
    {objects}
  </worldbody>
  {_couplings_xml()}
  {_actuators_xml()}
</mujoco>
"""


def build_model(
    scene: SceneSpec | None, *, image_size: int = 224, with_objects: bool = True
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
