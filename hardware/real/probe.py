"""Bounded health checks of the devices in a real-robot config (for `dexagent doctor`).

Each check returns a `DeviceCheck` and never takes longer than its timeout: a silent
device is reported as silent, not waited for. Nothing here moves the robot or writes to a
device, except `clear_hand_errors`, which the operator asks for by name.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dexagent.hardware.errors import HardwareError
from dexagent.hardware.real.config import HAND_JOINT_NAMES, RealRobotConfig

if TYPE_CHECKING:  # the Modbus driver loads when a hand is probed
    from dexagent.hardware.real.hand import ModbusHand


@dataclass(frozen=True)
class DeviceCheck:
    name: str
    ok: bool
    detail: str


def bounded(fn: Callable[[], str], timeout_s: float, what: str) -> tuple[bool, str]:
    """Run `fn` on a daemon thread; (ok, its detail or error) or (False, 'no answer') after `timeout_s`."""
    result: list[tuple[bool, str]] = []

    def target() -> None:
        try:
            result.append((True, fn()))
        except HardwareError as error:
            result.append((False, str(error)))
        except Exception as error:  # a vendor library's own error: report it, do not crash the doctor
            result.append((False, f"{type(error).__name__}: {error}"))

    thread = threading.Thread(target=target, name=f"probe-{what}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if not result:
        return False, f"{what}: no answer within {timeout_s:g} s"
    return result[0]


def tcp_reachable(host: str, port: int, timeout_s: float) -> tuple[bool, str]:
    """Whether something accepts TCP connections at host:port, and if not, why."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True, f"{host}:{port} accepts connections"
    except TimeoutError:
        return False, f"{host}:{port}: no answer within {timeout_s:g} s (powered? same subnet?)"
    except OSError as error:
        return False, f"{host}:{port}: {error.strerror or error}"
    except UnicodeError:  # a name the resolver's IDNA codec refuses (the config validator should have)
        return False, f"{host}:{port}: not a valid host name"


def check_arm(config: RealRobotConfig, timeout_s: float) -> DeviceCheck:
    ok, detail = tcp_reachable(config.arm.ip, config.arm.port, timeout_s)
    if not ok:
        return DeviceCheck("arm", False, detail)

    def ask() -> str:
        from dexagent.hardware.real.arm import RealManArm

        arm = RealManArm.connect(config.arm)
        try:
            joints = np.degrees(arm.read_joints())
            errors = arm.read_errors()
        finally:
            arm.close()
        return f"joints {np.round(joints, 1).tolist()} deg; controller errors {errors or 'none'}"

    ok, detail = bounded(ask, timeout_s + 2.0, "arm")
    return DeviceCheck("arm", ok, detail)


def check_hand(config: RealRobotConfig, timeout_s: float) -> DeviceCheck:
    def ask(hand: ModbusHand) -> str:
        angles, status, errors = hand.read_angles(), hand.read_status(), hand.read_errors()
        shown = ", ".join(f"{n} {a:.2f}" for n, a in zip(HAND_JOINT_NAMES, angles, strict=True))
        faults = _listed(errors) or "none"
        if errors:
            raise HardwareError(f"hand answers but reports errors: {faults}")
        return f"angles (1 = open) {shown}; status {status}; errors {faults}"

    return _with_hand(config, timeout_s, "hand", ask)


def check_cameras(config: RealRobotConfig, timeout_s: float, find: Any = None) -> list[DeviceCheck]:
    from dexagent.hardware.real.camera import RealSenseCamera, connected_serials, find_device

    checks = []
    try:
        present = connected_serials() if find is None else None
    except HardwareError as error:
        return [DeviceCheck(f"{name} camera", False, str(error)) for name in ("head", "wrist")]
    for name in ("head", "wrist"):
        camera_config = getattr(config.cameras, name)
        if present is not None and camera_config.serial not in present:
            found = ", ".join(present) or "none"
            checks.append(
                DeviceCheck(
                    f"{name} camera", False, f"serial {camera_config.serial} not connected (found: {found})"
                )
            )
            continue

        def grab(camera_config: Any = camera_config, name: str = name) -> str:
            camera = RealSenseCamera(name, camera_config, timeout_s, find or find_device).start()
            try:
                image = camera.read()
            finally:
                camera.stop()
            size = f"{image.shape[1]}x{image.shape[0]}"
            return f"serial {camera_config.serial}: frame {size}, mean {image.mean():.0f}"

        ok, detail = bounded(grab, 2 * timeout_s + 2.0, f"{name} camera")
        checks.append(DeviceCheck(f"{name} camera", ok, detail))
    return checks


def clear_hand_errors(config: RealRobotConfig, timeout_s: float) -> DeviceCheck:
    """Read the hand's error bits, ask it to clear them, read them again: what was set, what is left."""

    def clear(hand: ModbusHand) -> str:
        before = hand.read_errors()
        hand.clear_errors()
        after = hand.read_errors()
        was = _listed(before) or "none"
        if after:
            raise HardwareError(f"hand: errors were {was}; still set after clearing: {_listed(after)}")
        return f"errors were {was}; cleared"

    return _with_hand(config, timeout_s, "hand errors cleared", clear)


def _with_hand(
    config: RealRobotConfig, timeout_s: float, name: str, use: Callable[[ModbusHand], str]
) -> DeviceCheck:
    """Connect to the hand, run `use` on it and close it, all bounded by the hand's own timeouts."""
    hand_config = config.hand.model_copy(update={"timeout_s": min(config.hand.timeout_s, timeout_s)})

    def run() -> str:
        from dexagent.hardware.real.hand import ModbusHand

        hand = ModbusHand.connect(hand_config)
        try:
            return use(hand)
        finally:
            hand.close()

    ok, detail = bounded(run, 4 * timeout_s + 1.0, "hand")
    return DeviceCheck(name, ok, detail)


def _listed(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{finger}: {', '.join(bits)}" for finger, bits in errors.items())
