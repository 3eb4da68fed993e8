"""The embodiment as MJCF: a 7-DoF arm with RM75-like kinematics and a six-actuator hand.

The arm has RM75-like kinematics (7 revolute joints, alternating roll/pitch axes)
with the RM75's joint limits; links are somewhat longer than the real arm so the
whole placement area is reachable from a base at table height. The hand has six
position actuators (thumb rotation, thumb flexion, index, middle, ring, little);
each finger's distal joint is coupled to its proximal joint by an equality
constraint so one actuator curls the whole finger.

Hand frame ("palm"): z points out of the palm toward the fingertips (the approach
direction), the four fingers sit on the -x side and curl toward +x, the thumb sits
on the +x side and curls toward -x, so the hand pinches along x. The site
"grasp_site" marks the point where thumb and fingertips meet while closing.
"""

from __future__ import annotations

import math

import numpy as np

ARM_JOINTS = tuple(f"joint{i}" for i in range(1, 8))
# RM75 limits in radians (model.py's compiler reads radians; ARCHITECTURE.md: degrees silently break IK).
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

# Link lengths (m): base to shoulder, shoulder to elbow, elbow to wrist, wrist to flange.
_SHOULDER_Z = 0.24
_UPPER_ARM = 0.36
_FOREARM = 0.34
_WRIST_TO_FLANGE = 0.08


def fmt(values: tuple[float, ...] | list[float] | np.ndarray) -> str:
    """Numbers as MJCF attribute text."""
    return " ".join(f"{float(v):.6g}" for v in values)


def arm_xml() -> str:
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
    quat = fmt([math.cos(splay / 2), 0.0, math.sin(splay / 2), 0.0])
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
    thumb_quat = fmt([math.cos(thumb_splay / 2), 0.0, math.sin(thumb_splay / 2), 0.0])
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


def actuators_xml() -> str:
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


def couplings_xml() -> str:
    pairs = [("thumb_distal", "thumb_proximal")]
    pairs += [(f"{f}_distal", f"{f}_proximal") for f in ("index", "middle", "ring", "little")]
    lines = "".join(
        f'<joint joint1="{a}" joint2="{b}" polycoef="0 1 0 0 0" solref="0.005 1"/>\n' for a, b in pairs
    )
    return f"<equality>\n{lines}</equality>"
