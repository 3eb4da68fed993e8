"""`RealManArm`: the RealMan RM75 through RealMan's official Python SDK (`Robotic_Arm`).

The SDK speaks degrees; dexagent speaks radians: every conversion happens here. Motion
during control goes through `rm_movej_canfd` in follow mode at 100 Hz (see `JointStreamer`);
moves to a pose (home) through a non-blocking `rm_movej` whose arrival is polled here, so a
stop (Ctrl-C, an e-stop, a fault) halts the move at once instead of after the SDK returns.
SDK return codes become our exceptions with their meaning. A handle that failed to connect
(`id == -1`) is never sent motion or deleted: the SDK's `rm_delete_robot_arm()` never
returns after a motion command on such a handle.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dexagent.hardware.errors import (
    DeviceFaultError,
    DeviceTimeoutError,
    DeviceUnreachableError,
    DriverError,
)
from dexagent.hardware.real.config import ArmConfig
from dexagent.hardware.real.joint_stream import JointStreamer
from dexagent.hardware.types import ARM_DOF

DEVICE = "arm"
# What the SDK's return codes mean (Robotic_Arm.rm_robot_interface docstrings).
RETURN_CODES = {
    0: "ok",
    1: "the controller refused the command (bad parameter, or the arm is in an error or stop state)",
    -1: "the command could not be sent (the network link to the controller failed)",
    -2: "no reply from the controller in time (link down, or the controller is busy)",
    -3: "the controller's reply could not be parsed (SDK and controller versions differ?)",
}
_DELETE_TIMEOUT_S = 2.0
# robotic-arm 1.1.6's rm_create_robot_arm crashes the process (SIGSEGV) on an address of 21
# characters or more: only a resolved address within this length ever reaches it.
SDK_MAX_ADDRESS = 20
# A move to a pose has arrived when every joint is this close to its target; it is polled this often
# (a stop takes effect within one poll) and given up (the arm stopped) after this long.
ARRIVED_DEG = 0.5
MOVE_POLL_S = 0.02
MOVE_TIMEOUT_S = 60.0


def sdk_address(host: str) -> str:
    """The IPv4 address of `host` (an address or a name), short enough for the SDK."""
    try:
        address = socket.gethostbyname(host)
    except (OSError, UnicodeError) as error:
        raise DeviceUnreachableError(
            DEVICE, f"cannot resolve the arm's address {host!r} ({error}); check arm.ip in the robot config"
        ) from None
    if len(address) > SDK_MAX_ADDRESS:  # defence in depth: an IPv4 address is at most 15
        raise DeviceUnreachableError(
            DEVICE, f"address {address!r} is longer than RealMan's SDK takes ({SDK_MAX_ADDRESS} characters)"
        )
    return address


def check_code(code: int, what: str) -> None:
    """Raise the exception an SDK return `code` of `what` means (nothing for 0)."""
    if code == 0:
        return
    meaning = RETURN_CODES.get(code, "an unknown return code")
    message = f"{what} failed with code {code}: {meaning}"
    if code == -1:
        raise DeviceUnreachableError(DEVICE, message)
    if code == -2:
        raise DeviceTimeoutError(DEVICE, message)
    raise DeviceFaultError(DEVICE, message)


def official_sdk() -> Any:
    """A `Robotic_Arm.rm_robot_interface.RoboticArm` (RealMan's SDK, PyPI `robotic-arm`)."""
    try:
        from Robotic_Arm.rm_robot_interface import RoboticArm, rm_thread_mode_e
    except ImportError as error:
        raise DeviceUnreachableError(
            DEVICE, f"RealMan's SDK cannot be imported ({error}); pip install 'dexagent[real]'"
        ) from None
    return RoboticArm(rm_thread_mode_e.RM_TRIPLE_MODE_E)


def to_degrees(joints_rad: np.ndarray) -> list[float]:
    return [math.degrees(float(v)) for v in np.asarray(joints_rad).reshape(-1)[:ARM_DOF]]


class RealManArm:
    """A connected arm. `connect(config)`, then `read_joints`, `move_to`, `stream_to`, `stop`, `close`."""

    def __init__(self, sdk: Any, config: ArmConfig, control_hz: float = 20.0) -> None:
        self.sdk = sdk
        self.config = config
        self.control_hz = control_hz
        self._lower = np.radians(config.lower_deg)
        self._upper = np.radians(config.upper_deg)
        self._streamer: JointStreamer | None = None
        # The SDK handle is shared by the stream thread and the caller. Re-entrant: an emergency stop
        # from a signal handler runs on the main thread, possibly while it holds the lock.
        self._lock = threading.RLock()
        self._halted = False  # set by stop(): a set-point already queued behind the lock is dropped
        self.alive = True  # False once the link failed: no more motion, no delete

    @classmethod
    def connect(
        cls, config: ArmConfig, control_hz: float = 20.0, make_sdk: Callable[[], Any] = official_sdk
    ) -> RealManArm:
        """Connect to the controller at config.ip:port; `DeviceUnreachableError` when it does not answer."""
        address = sdk_address(config.ip)
        sdk = make_sdk()
        try:
            handle = sdk.rm_create_robot_arm(address, config.port)
        except ValueError:  # the SDK's own wrapper reads a NULL handle (seen after many arms in one process)
            handle = None
        if getattr(handle, "id", -1) == -1:
            # A failed handle: sending motion to it, then deleting it, hangs the SDK forever.
            raise DeviceUnreachableError(
                DEVICE,
                f"no RealMan controller answers at {config.ip}:{config.port} "
                "(power, network cable, the IP in the robot config, or another client holding it)",
            )
        arm = cls(sdk, config, control_hz)
        try:
            arm.read_joints()
        except DriverError:
            arm.alive = False
            raise
        return arm

    def _call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self.alive:
            raise DeviceUnreachableError(DEVICE, f"{what} refused: the link to the arm failed earlier")
        with self._lock:
            result = method(*args, **kwargs)
        code = result[0] if isinstance(result, tuple) else result
        try:
            check_code(int(code), what)
        except (DeviceUnreachableError, DeviceTimeoutError):
            self.alive = False
            raise
        return result

    def read_joints(self) -> np.ndarray:
        """The measured joint angles float64[7] in radians."""
        _, degrees = self._call("rm_get_joint_degree", self.sdk.rm_get_joint_degree)
        return np.radians(np.asarray(degrees[:ARM_DOF], dtype=np.float64))

    def read_errors(self) -> dict[str, Any]:
        """The controller's error fields (rm_get_current_arm_state), for diagnostics."""
        _, state = self._call("rm_get_current_arm_state", self.sdk.rm_get_current_arm_state)
        return {key: value for key, value in state.items() if "err" in key}

    def _checked(self, joints_rad: np.ndarray) -> np.ndarray:
        joints = np.asarray(joints_rad, dtype=np.float64).reshape(-1)
        if joints.shape != (ARM_DOF,) or not np.all(np.isfinite(joints)):
            raise DeviceFaultError(DEVICE, f"a joint target is {ARM_DOF} finite angles, got {joints_rad!r}")
        if np.any(joints < self._lower - 1e-6) or np.any(joints > self._upper + 1e-6):
            raise DeviceFaultError(DEVICE, f"joint target {to_degrees(joints)} deg is outside the arm limits")
        return joints

    def move_to(self, joints_rad: np.ndarray, timeout_s: float = MOVE_TIMEOUT_S) -> None:
        """Planned move (rm_movej) to `joints_rad` at config.move_speed percent; returns on arrival.

        The SDK call does not block: the arrival is polled, so `stop()` (from a signal handler or
        another thread) ends the move within one poll and it raises `DeviceFaultError`. Anything
        else that ends the wait (Ctrl-C, a lost link, `timeout_s` passing) stops the arm first.
        """
        joints = self._checked(joints_rad)
        self.stop_streaming()
        self._halted = False
        self._call("rm_movej", self.sdk.rm_movej, to_degrees(joints), self.config.move_speed, 0, 0, 0)
        try:
            self._await_arrival(joints, timeout_s)
        except BaseException:
            if not self._halted:
                with contextlib.suppress(DriverError):
                    self.stop()
            raise

    def _await_arrival(self, joints: np.ndarray, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self._halted:
            off = np.degrees(np.abs(self.read_joints() - joints))
            if float(off.max()) <= ARRIVED_DEG:
                return
            if time.monotonic() > deadline:
                raise DeviceFaultError(
                    DEVICE,
                    f"the arm did not arrive within {timeout_s:g} s (joint {int(off.argmax()) + 1} is "
                    f"{float(off.max()):.1f} deg off); it was stopped (check the controller's errors)",
                )
            time.sleep(MOVE_POLL_S)
        raise DeviceFaultError(DEVICE, "the move was stopped before the arm arrived")

    def _send_canfd(self, joints_rad: np.ndarray) -> None:
        with self._lock:
            if self._halted:
                return  # stopped while this set-point waited for the lock: it must not go out
            self._call("rm_movej_canfd", self.sdk.rm_movej_canfd, to_degrees(joints_rad), self.config.follow)

    def stream_to(self, joints_rad: np.ndarray) -> None:
        """Set the 20 Hz target of the 100 Hz set-point stream (started on first use)."""
        joints = self._checked(joints_rad)
        if self._streamer is not None and self._streamer.fault is not None:
            fault, self._streamer = self._streamer.fault, None
            raise fault  # once: the next target starts a new stream if the link is still up
        if self._streamer is None or not self._streamer.running:
            self._halted = False
            self._streamer = JointStreamer(
                self._send_canfd,
                self.read_joints(),
                rate_hz=self.config.stream_hz,
                control_hz=self.control_hz,
            )
        self._streamer.set_target(joints)

    @property
    def stream_fault(self) -> DriverError | None:
        """The error that stopped the set-point stream, if one did."""
        fault = self._streamer.fault if self._streamer is not None else None
        return fault if isinstance(fault, DriverError) else None

    def stop_streaming(self) -> None:
        """Stop the set-point stream (the arm holds its last set-point)."""
        if self._streamer is not None:
            self._streamer.stop()
            self._streamer = None

    def stop(self) -> None:
        """Stop motion now: no further set-point leaves, the controller is told to stop
        (rm_set_arm_stop) without waiting for the stream thread, which is then ended."""
        self._halted = True
        try:
            if self.alive:
                self._call("rm_set_arm_stop", self.sdk.rm_set_arm_stop)
        finally:
            self.stop_streaming()

    def emergency_stop(self, engaged: bool = True) -> None:
        """Engage (or release) the controller's emergency stop."""
        self.stop_streaming()
        self._call("rm_set_arm_emergency_stop", self.sdk.rm_set_arm_emergency_stop, engaged)

    def start_drag(self) -> None:
        """Drag-teach mode: the operator guides the arm by hand (the controller records nothing)."""
        self.stop_streaming()
        self._call("rm_start_drag_teach", self.sdk.rm_start_drag_teach, 0)

    def stop_drag(self) -> None:
        """Leave drag-teach mode; the arm holds where the operator left it."""
        self._call("rm_stop_drag_teach", self.sdk.rm_stop_drag_teach)

    def clear_errors(self) -> None:
        """Clear the controller's system errors (rm_clear_system_err)."""
        self._call("rm_clear_system_err", self.sdk.rm_clear_system_err)

    def close(self) -> None:
        """Stop streaming and release the handle; a dead link is never deleted (the SDK would hang)."""
        self.stop_streaming()
        if not self.alive:
            return
        self.alive = False
        # Bounded: a controller that vanished mid-run must not hang our shutdown.
        done = threading.Thread(target=self.sdk.rm_delete_robot_arm, name="arm-delete", daemon=True)
        done.start()
        done.join(_DELETE_TIMEOUT_S)
