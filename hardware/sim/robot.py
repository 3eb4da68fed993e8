"""`SimRobot`: the MuJoCo embodiment behind the `Robot` protocol, plus the sim's ground truth."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import mujoco
import numpy as np

from dexagent.hardware.errors import HardwareError, UnsafeActionError
from dexagent.hardware.sim.model import (
    ARM_HOME,
    ARM_JOINTS,
    ARM_LIMITS,
    BIN_CENTER,
    BIN_FLOOR_Z,
    BIN_HALF,
    CONTROL_HZ,
    HAND_ACTUATORS,
    HAND_CLOSED_ANGLE,
    HAND_JOINTS,
    SUBSTEPS,
    build_model,
)
from dexagent.hardware.sim.render import SceneRenderer
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE, TABLE_TOP_Z, SceneSpec
from dexagent.hardware.types import ARM_DOF, HAND_DOF, Box, Observation, RobotSpec

LIFT_HEIGHT = 0.10  # the paper's success metric scaled for sim: bottom >= 10 cm above the table
SETTLE_SECONDS = 0.4  # objects drop onto the table before t = 0
_KNOWN_CAMERAS = ("head", "wrist")


def _vertical_reach(kind: int, size: np.ndarray, up: np.ndarray) -> float:
    """How far a primitive extends above/below its centre; `up` float[3] is world z in the geom's frame."""
    if kind == mujoco.mjtGeom.mjGEOM_SPHERE:
        return float(size[0])
    if kind == mujoco.mjtGeom.mjGEOM_ELLIPSOID:
        return float(np.linalg.norm(up * size[:3]))
    if kind == mujoco.mjtGeom.mjGEOM_CAPSULE:
        return float(size[0] + size[1] * abs(up[2]))
    if kind == mujoco.mjtGeom.mjGEOM_CYLINDER:
        return float(size[1] * abs(up[2]) + size[0] * np.hypot(up[0], up[1]))
    return float(np.abs(up) @ size[:3])  # box (and a safe bound for anything else)


@dataclass(frozen=True)
class SceneObject:
    """What the sim tells a planner about one object (its ground-truth tags)."""

    index: int
    name: str
    category: str
    colour: str
    tags: frozenset[str]
    flat: bool


def sim_robot_spec(cameras: tuple[str, ...] = _KNOWN_CAMERAS) -> RobotSpec:
    """The `RobotSpec` of the simulated arm and hand (limits in rad and hand units)."""
    limits = np.array(ARM_LIMITS, dtype=np.float32)
    return RobotSpec(
        joint_names=ARM_JOINTS + HAND_ACTUATORS,
        lower=np.concatenate([-limits, np.zeros(6, np.float32)]),
        upper=np.concatenate([limits, np.ones(6, np.float32)]),
        home=np.array(ARM_HOME + (1.0,) * 6, dtype=np.float32),
        control_hz=CONTROL_HZ,
        camera_names=cameras,
    )


class SimRobot:
    """The simulated arm + hand in one scene; one `act` is one 20 Hz tick (25 physics steps of 2 ms)."""

    def __init__(
        self,
        scene: SceneSpec,
        *,
        image_size: int = DEFAULT_IMAGE_SIZE,
        wrist_size: int | None = None,
        cameras: tuple[str, ...] = ("head", "wrist"),
        hold_seconds: float = 2.0,
    ) -> None:
        """`image_size`: the side of the head camera's square images (and the wrist's, unless
        `wrist_size` gives the wrist its own: each camera at the size its encoder reads)."""
        unknown = [c for c in cameras if c not in _KNOWN_CAMERAS]
        if unknown:
            raise HardwareError(f"unknown camera(s) {unknown}; the sim has {list(_KNOWN_CAMERAS)}")
        for what, size in (("image_size", image_size), ("wrist_size", wrist_size)):
            if size is not None and size < 16:
                raise HardwareError(f"{what} must be at least 16 pixels, got {size}")
        self.scene = scene
        self.spec = sim_robot_spec(tuple(cameras))
        self.image_size = image_size
        self.wrist_size = image_size if wrist_size is None else wrist_size
        self.cameras = tuple(cameras)
        self.hold_seconds = hold_seconds
        self.model = build_model(scene, image_size=max(image_size, self.wrist_size))
        self.data = mujoco.MjData(self.model)
        self._arm_qpos = np.array([self.model.joint(j).qposadr[0] for j in ARM_JOINTS])
        self._arm_dof = np.array([self.model.joint(j).dofadr[0] for j in ARM_JOINTS])
        self._hand_qpos = np.array([self.model.joint(j).qposadr[0] for j in HAND_JOINTS])
        self._hand_closed = np.array(HAND_CLOSED_ANGLE)
        count = len(scene.objects)
        self._object_bodies = [self.model.body(f"object{i}").id for i in range(count)]
        self._object_qpos = [self.model.joint(f"object{i}_free").qposadr[0] for i in range(count)]
        self._object_dof = [self.model.joint(f"object{i}_free").dofadr[0] for i in range(count)]
        geom_to_object = np.full(self.model.ngeom, -1, dtype=np.int32)
        for i, body in enumerate(self._object_bodies):
            geom_to_object[self.model.geom_bodyid == body] = i
        self._geom_to_object = geom_to_object
        hand_root = self.model.body("palm").id
        self._hand_geoms = np.zeros(self.model.ngeom, dtype=bool)
        for geom in range(self.model.ngeom):
            body = self.model.geom_bodyid[geom]
            while body != 0 and body != hand_root:
                body = self.model.body_parentid[body]
            self._hand_geoms[geom] = body == hand_root
        self._renderer = SceneRenderer(
            self.model, geom_to_object, image_size=image_size, camera_sizes={"wrist": self.wrist_size}
        )
        self._base_light_diffuse = self.model.light_diffuse.copy()
        self._base_light_dir = self.model.light_dir.copy()
        self._lifted_since: list[float | None] = [None] * len(scene.objects)
        self._held: list[bool] = [False] * len(scene.objects)
        self._removed = 0
        self._table_geom = self.model.geom("table").id
        self._geoms_cache: dict[str, tuple[float, int, np.ndarray]] = {}
        self._version = 0  # bumped by teleports so cached ground truth is recomputed
        self._closed = False
        self.objects = [
            SceneObject(i, p.spec.name, p.spec.category, p.spec.colour, p.spec.tags, p.spec.flat)
            for i, p in enumerate(scene.objects)
        ]
        self._set_arm_and_hand(self.spec.home)
        # Let objects come to rest on the table before the episode clock starts.
        mujoco.mj_step(self.model, self.data, nstep=round(SETTLE_SECONDS / self.model.opt.timestep))
        self.data.time = 0.0
        self._update_lights()
        mujoco.mj_forward(self.model, self.data)

    # --- the Robot protocol ---------------------------------------------------------------

    @property
    def time(self) -> float:
        """Sim seconds since the episode started."""
        return float(self.data.time)

    def state(self) -> np.ndarray:
        """float32[13]: 7 arm joint angles (rad), 6 hand openings in [0, 1] (1 = open)."""
        arm = self.data.qpos[self._arm_qpos]
        hand = 1.0 - self.data.qpos[self._hand_qpos] / self._hand_closed
        return np.concatenate([arm, np.clip(hand, 0.0, 1.0)]).astype(np.float32)

    def observe(self) -> Observation:
        """Render the requested cameras (others are zeros) and read the joint state."""
        head, wrist = (
            self._renderer.rgb(self.data, camera)
            if camera in self.cameras
            else np.zeros((self.camera_size(camera),) * 2 + (3,), dtype=np.uint8)
            for camera in ("head", "wrist")
        )
        segmentation = self.head_segmentation() if "head" in self.cameras else None
        return Observation(head, wrist, self.state(), self.time, segmentation)

    def camera_size(self, camera: str) -> int:
        """The side of `camera`'s ("head" or "wrist") square images, pixels."""
        return self._renderer.size(camera)

    def act(self, action: np.ndarray) -> None:
        """Apply float32[13] joint targets for one control tick and track grasp success."""
        self._check_open()
        target = np.asarray(action, dtype=np.float64)
        if target.shape != (ARM_DOF + HAND_DOF,):
            raise UnsafeActionError(f"SimRobot.act needs shape ({ARM_DOF + HAND_DOF},), got {target.shape}")
        if not np.all(np.isfinite(target)):
            raise UnsafeActionError(f"SimRobot.act got a non-finite action {target.tolist()}")
        self.data.ctrl[:ARM_DOF] = target[:ARM_DOF]
        self.data.ctrl[ARM_DOF:] = (1.0 - np.clip(target[ARM_DOF:], 0.0, 1.0)) * self._hand_closed
        mujoco.mj_step(self.model, self.data, nstep=SUBSTEPS)
        self._update_lights()
        self._track_grasps()

    def commanded_action(self) -> np.ndarray:
        """float32[13]: the joint targets the robot is driving to now (the last `act`, or home).

        Experts compare it with their own last action to tell when something else was in control.
        """
        arm = self.data.ctrl[:ARM_DOF]
        hand = 1.0 - self.data.ctrl[ARM_DOF:] / self._hand_closed
        return np.concatenate([arm, hand]).astype(np.float32)

    def home(self) -> None:
        """Put the arm at home with the hand open (instantly: the sim has no need to drive there)."""
        self._check_open()
        self._set_arm_and_hand(self.spec.home)
        mujoco.mj_forward(self.model, self.data)
        self._version += 1

    def close(self) -> None:
        if not self._closed:
            self._renderer.close()
            self._closed = True

    def __enter__(self) -> SimRobot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- ground truth ---------------------------------------------------------------------

    def object_position(self, i: int) -> np.ndarray:
        """float32[3]: the object's frame origin in world coordinates."""
        return self.data.xpos[self._body(i)].astype(np.float32)

    def object_height(self, i: int) -> float:
        """Height of the object's lowest point above the table top (m)."""
        return self.object_z_range(i)[0] - TABLE_TOP_Z

    def object_z_range(self, i: int) -> tuple[float, float]:
        """World z of the object's lowest and highest points, exact for every primitive kind."""
        body = self._body(i)
        low, high = np.inf, -np.inf
        for geom in np.flatnonzero(self.model.geom_bodyid == body):
            reach = _vertical_reach(
                int(self.model.geom_type[geom]),
                self.model.geom_size[geom],
                self.data.geom_xmat[geom].reshape(3, 3)[2],
            )
            z = float(self.data.geom_xpos[geom][2])
            low, high = min(low, z - reach), max(high, z + reach)
        return low, high

    def _geoms(self, camera: str) -> np.ndarray:
        """int32[H, W]: the geom id at each pixel of `camera`, -1 where none (cached per tick)."""
        key = (self.time, self._version)
        cached = self._geoms_cache.get(camera)
        if cached is None or cached[:2] != key:
            cached = self._geoms_cache[camera] = (*key, self._renderer.geoms(self.data, camera))
        return cached[2]

    def head_segmentation(self) -> np.ndarray:
        """int32[H, W]: the object index at each head-camera pixel, -1 elsewhere (cached per tick)."""
        return self._renderer.objects(self._geoms("head"))

    def table_mask(self, camera: str) -> np.ndarray:
        """bool[H, W]: the pixels of `camera` ("head" or "wrist") that show the table top.

        Ground truth for training-time augmentation (re-texturing the table); only the sim has it.
        """
        if camera not in ("head", "wrist"):
            raise ValueError(f"camera must be 'head' or 'wrist', got {camera!r}")
        return self._geoms(camera) == self._table_geom

    def object_box(self, i: int) -> Box | None:
        """The tight box of the object's visible head-camera pixels, or None when it is hidden."""
        self._body(i)
        return Box.from_mask(self.head_segmentation() == i)

    def is_lifted(self, i: int) -> bool:
        """True when the object's lowest point is at least 10 cm above the table now."""
        return self.object_height(i) >= LIFT_HEIGHT

    def grasp_success(self, i: int) -> bool:
        """True once the object has been lifted and held for `hold_seconds` (tracked by `act`)."""
        self._body(i)
        return self._held[i]

    def in_contact_with_hand(self, i: int) -> bool:
        """True when any hand geom touches the object now."""
        body = self._body(i)
        contacts = self.data.contact[: self.data.ncon]
        for g1, g2 in zip(contacts.geom1, contacts.geom2, strict=True):
            if (self.model.geom_bodyid[g1] == body and self._hand_geoms[g2]) or (
                self.model.geom_bodyid[g2] == body and self._hand_geoms[g1]
            ):
                return True
        return False

    def remove_object(self, i: int) -> None:
        """Teleport the object into the bin beside the table (out of the workspace)."""
        self._body(i)
        slot = self._removed % 8
        self._removed += 1
        x = BIN_CENTER[0] - BIN_HALF[0] * 0.75 + (slot % 4) * BIN_HALF[0] * 0.5
        y = BIN_CENTER[1] + (0.4 if slot < 4 else -0.4) * BIN_HALF[1]
        qpos = self._object_qpos[i]
        rest = self.scene.objects[i].spec.rest_height
        self.data.qpos[qpos : qpos + 3] = (x, y, BIN_FLOOR_Z + rest + 0.05 * (self._removed // 8))
        self.data.qpos[qpos + 3 : qpos + 7] = (1.0, 0.0, 0.0, 0.0)
        self.data.qvel[self._object_dof[i] : self._object_dof[i] + 6] = 0.0
        self._lifted_since[i] = None
        mujoco.mj_forward(self.model, self.data)
        self._version += 1

    # --- internals ------------------------------------------------------------------------

    def _body(self, i: int) -> int:
        if not 0 <= i < len(self._object_bodies):
            raise HardwareError(f"no object {i}: the scene has {len(self._object_bodies)} objects")
        return self._object_bodies[i]

    def _check_open(self) -> None:
        if self._closed:
            raise HardwareError("SimRobot is closed")

    def _set_arm_and_hand(self, action: np.ndarray) -> None:
        self.data.qpos[self._arm_qpos] = action[:ARM_DOF]
        self.data.qvel[self._arm_dof] = 0.0
        hand_angles = (1.0 - action[ARM_DOF:]) * self._hand_closed
        self.data.qpos[self._hand_qpos] = hand_angles
        for name in ("thumb", "index", "middle", "ring", "little"):
            joint = self.model.joint(f"{name}_distal")
            proximal = self.model.joint(f"{name}_proximal")
            self.data.qpos[joint.qposadr[0]] = self.data.qpos[proximal.qposadr[0]]
        self.data.ctrl[:ARM_DOF] = action[:ARM_DOF]
        self.data.ctrl[ARM_DOF:] = hand_angles

    def _track_grasps(self) -> None:
        now = self.time
        for i in range(len(self._object_bodies)):
            if self.is_lifted(i):
                since = self._lifted_since[i]
                if since is None:
                    self._lifted_since[i] = since = now
                if now - since >= self.hold_seconds - 1e-9:
                    self._held[i] = True
            else:
                self._lifted_since[i] = None

    def _update_lights(self) -> None:
        if not self.scene.lighting.moving:
            return
        # Disco: every light cycles through hues and sweeps its direction, 0.5 cycles per sim second.
        for light in range(self.model.nlight):
            phase = 0.5 * self.time + light / max(1, self.model.nlight)
            red, green, blue = colorsys.hsv_to_rgb(phase % 1.0, 0.8, 1.0)
            brightness = float(np.max(self._base_light_diffuse[light]))
            self.model.light_diffuse[light] = np.array([red, green, blue]) * brightness
            angle = 2 * np.pi * phase
            direction = self._base_light_dir[light] + 0.4 * np.array([np.cos(angle), np.sin(angle), 0.0])
            self.model.light_dir[light] = direction / np.linalg.norm(direction)
