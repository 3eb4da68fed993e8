"""`RealRobotConfig`: the YAML file that describes one real robot (addresses, serials, limits, poses).

Angles in this file are degrees, as on the arm's teach pendant and in its SDK; the rest of
dexagent uses radians, and `RealRobotConfig.spec()` converts. Hand values are in [0, 1], 1 = open.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from dexagent.hardware.robot_config import RobotConfig
from dexagent.hardware.types import ARM_DOF, HAND_DOF, RobotSpec

# Our joint order: 7 arm joints, then the hand as the sim's actuators.
ARM_JOINT_NAMES = tuple(f"joint{i}" for i in range(1, ARM_DOF + 1))
HAND_JOINT_NAMES = ("thumb_rotation", "thumb_flexion", "index", "middle", "ring", "little")
# RM75-B joint limits from RealMan's datasheet (degrees); narrow them for your cell.
RM75_LIMITS_DEG = (178.0, 130.0, 178.0, 135.0, 178.0, 128.0, 360.0)
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Modbus holding registers are 16-bit addresses; a block of six must fit below the top.
_LAST_BLOCK_ADDRESS = 0xFFFF - 5


def _host(value: str) -> str:
    """An IPv4/IPv6 address or a DNS name (labels of 1-63 letters, digits, '-'; 253 characters)."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(
            "not an IP address or a host name (letters, digits, '-' and '.'; labels of at most 63 characters)"
        )
    return value


Host = Annotated[str, AfterValidator(_host)]
RegisterAddress = Annotated[int, Field(ge=0, le=_LAST_BLOCK_ADDRESS)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ArmConfig(_Section):
    """The RealMan arm's controller on the network, and how set-points are streamed to it."""

    ip: Host = Field("192.168.1.18", min_length=1, description="the controller's IPv4 address or host name")
    port: int = Field(8080, ge=1, le=65535)
    stream_hz: float = Field(100.0, ge=100.0, le=500.0, description="rm_movej_canfd rate (follow mode)")
    follow: bool = Field(True, description="rm_movej_canfd follow mode (high-following, no planning)")
    move_speed: int = Field(20, ge=1, le=100, description="percent of max speed for blocking moves (home)")
    lower_deg: tuple[float, ...] = Field(tuple(-v for v in RM75_LIMITS_DEG), description="7 lower limits")
    upper_deg: tuple[float, ...] = Field(RM75_LIMITS_DEG, description="7 upper limits")
    max_step_deg: float = Field(8.0, gt=0, le=30.0, description="largest joint target change per tick")


class RegisterMap(_Section):
    """Holding-register addresses of the hand (six registers per block); default: Inspire RH56."""

    angle_set: RegisterAddress = 1486
    force_set: RegisterAddress = 1498
    speed_set: RegisterAddress = 1522
    angle_act: RegisterAddress = 1546
    error: RegisterAddress = 1606
    status: RegisterAddress = 1612
    clear_error: RegisterAddress = 1004
    # For each of our hand joints (thumb_rotation, thumb_flexion, index, middle, ring, little):
    # its slot in the register block. Inspire's block is little, ring, middle, index, thumb
    # flexion, thumb rotation: the reverse of ours.
    slots: tuple[int, ...] = (5, 4, 3, 2, 1, 0)
    # Register values are 16 bits and read back signed (-1 means "no value"): at most 32767.
    full_scale: int = Field(1000, gt=0, le=0x7FFF, description="register value of a fully open finger")
    open_is_high: bool = Field(True, description="the register's full scale means open (Inspire: yes)")

    @model_validator(mode="after")
    def _slots_are_a_permutation(self) -> RegisterMap:
        if sorted(self.slots) != list(range(HAND_DOF)):
            raise ValueError(f"slots must list each of 0..{HAND_DOF - 1} once, got {list(self.slots)}")
        return self


class HandConfig(_Section):
    """The Modbus hand: over TCP (an RS485 gateway or the hand's Ethernet port) or RTU serial."""

    transport: Literal["tcp", "rtu"] = "tcp"
    host: Host = "192.168.11.210"
    port: int = Field(6000, ge=1, le=65535)
    serial_port: str = "/dev/ttyUSB0"
    baudrate: int = Field(115200, gt=0)
    unit_id: int = Field(1, ge=0, le=247, description="Modbus slave id of the hand")
    timeout_s: float = Field(0.2, gt=0, le=5.0, description="one request's timeout")
    retries: int = Field(1, ge=0, le=5)
    speed: float = Field(1.0, gt=0, le=1.0, description="finger speed, fraction of full scale")
    force: float = Field(0.5, gt=0, le=1.0, description="grip force limit, fraction of full scale")
    registers: RegisterMap = Field(default_factory=lambda: RegisterMap.model_validate({}))


class CameraConfig(_Section):
    """One RealSense camera, opened by serial number."""

    serial: str = Field(min_length=1, description="serial number (rs-enumerate-devices prints it)")
    width: int = Field(640, gt=0)
    height: int = Field(480, gt=0)
    fps: int = Field(30, gt=0)


class CamerasConfig(_Section):
    head: CameraConfig
    wrist: CameraConfig
    frame_timeout_s: float = Field(0.5, gt=0, le=5.0, description="a camera silent this long is gone")


class PosesConfig(_Section):
    """Named poses: 7 arm joints in degrees, then 6 hand values in [0, 1] (1 = open)."""

    home: tuple[float, ...] = (0.0, -20.0, 0.0, 126.0, 0.0, 74.5, 0.0, 1, 1, 1, 1, 1, 1)
    reset: tuple[float, ...] | None = Field(None, description="pre-grasp pose; default: home")
    bin: tuple[float, ...] | None = Field(None, description="hand over the bin (put-away drops here)")


class SafetyConfig(_Section):
    estop_signal: Literal["SIGUSR1", "SIGUSR2", "SIGQUIT", "none"] = Field(
        "SIGUSR1", description="a signal that triggers the emergency stop (`kill -USR1 PID`)"
    )
    estop_key: str | None = Field("space", description="a key on the terminal that triggers it; null: none")


class HeadCameraPose(_Section):
    """Where the head camera is, in the frame of the sim: arm base at the origin, x forward, z up, metres."""

    position_m: tuple[float, float, float] = Field(description="camera centre")
    look_at_m: tuple[float, float, float] = Field(
        description="a point on the optical axis (e.g. table centre)"
    )
    vertical_fov_deg: float = Field(42.0, gt=1, lt=179, description="D435 colour at 640x480: about 42")


class CalibrationConfig(_Section):
    """What was measured on this robot where it may differ from the sim embodiment."""

    head_camera: HeadCameraPose | None = None
    wrist_vertical_fov_deg: float | None = Field(None, gt=1, lt=179, description="D405 colour: about 58")


class RealRobotConfig(RobotConfig):
    """A real RealMan arm + Modbus hand + RealSense head and wrist cameras."""

    type: Literal["real"] = "real"
    arm: ArmConfig = Field(default_factory=lambda: ArmConfig.model_validate({}))
    hand: HandConfig = Field(default_factory=lambda: HandConfig.model_validate({}))
    cameras: CamerasConfig
    poses: PosesConfig = Field(default_factory=lambda: PosesConfig.model_validate({}))
    safety: SafetyConfig = Field(default_factory=lambda: SafetyConfig.model_validate({}))
    calibration: CalibrationConfig = Field(default_factory=lambda: CalibrationConfig.model_validate({}))
    control_hz: float = Field(20.0, gt=0, le=100.0)

    @model_validator(mode="after")
    def _shapes_and_ranges(self) -> RealRobotConfig:
        arm = self.arm
        for name in ("lower_deg", "upper_deg"):
            if len(getattr(arm, name)) != ARM_DOF:
                raise ValueError(f"arm.{name} needs {ARM_DOF} values, got {len(getattr(arm, name))}")
        for i, (low, high) in enumerate(zip(arm.lower_deg, arm.upper_deg, strict=True)):
            if low >= high:
                raise ValueError(f"arm joint{i + 1}: lower_deg {low} is not below upper_deg {high}")
        for pose_name in ("home", "reset", "bin"):
            pose = getattr(self.poses, pose_name)
            if pose is None:
                continue
            if len(pose) != ARM_DOF + HAND_DOF:
                raise ValueError(
                    f"poses.{pose_name} needs {ARM_DOF} arm angles (deg) + {HAND_DOF} hand values, "
                    f"got {len(pose)}"
                )
            for i in range(ARM_DOF):
                if not arm.lower_deg[i] <= pose[i] <= arm.upper_deg[i]:
                    raise ValueError(
                        f"poses.{pose_name}: joint{i + 1} = {pose[i]} deg is outside the arm limits "
                        f"[{arm.lower_deg[i]}, {arm.upper_deg[i]}]"
                    )
            for i in range(ARM_DOF, ARM_DOF + HAND_DOF):
                if not 0.0 <= pose[i] <= 1.0:
                    raise ValueError(
                        f"poses.{pose_name}: hand value {i - ARM_DOF} = {pose[i]} is not in [0, 1]"
                    )
        if self.cameras.head.serial == self.cameras.wrist.serial:
            raise ValueError("cameras.head and cameras.wrist have the same serial number")
        return self

    def pose(self, name: Literal["home", "reset", "bin"]) -> np.ndarray:
        """float32[13] in our units (rad, hand [0, 1]); reset defaults to home, bin to None's error."""
        values = getattr(self.poses, name)
        if values is None and name == "reset":
            values = self.poses.home
        if values is None:
            raise ValueError(f"poses.{name} is not set in the robot config")
        return pose_to_radians(values)

    def spec(self) -> RobotSpec:
        """The `RobotSpec` the safety layer enforces (radians for the arm)."""
        lower = [math.radians(v) for v in self.arm.lower_deg] + [0.0] * HAND_DOF
        upper = [math.radians(v) for v in self.arm.upper_deg] + [1.0] * HAND_DOF
        max_step = [math.radians(self.arm.max_step_deg)] * ARM_DOF + [0.25] * HAND_DOF
        return RobotSpec(
            joint_names=ARM_JOINT_NAMES + HAND_JOINT_NAMES,
            lower=np.array(lower, np.float32),
            upper=np.array(upper, np.float32),
            home=self.pose("home"),
            control_hz=self.control_hz,
            max_step=np.array(max_step, np.float32),
        )


def pose_to_radians(values: tuple[float, ...]) -> np.ndarray:
    """float32[13] from a config pose: 7 degrees -> radians, the hand as is."""
    pose = np.array(values, dtype=np.float64)
    pose[:ARM_DOF] = np.radians(pose[:ARM_DOF])
    return pose.astype(np.float32)
