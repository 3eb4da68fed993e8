"""`RealRobot`: the RealMan arm, the Modbus hand and the RealSense head and wrist cameras as one `Robot`.

Same protocol and safety layer as the sim. Any driver fault stops the arm (the stream ends,
the controller is told to stop) before the error goes up, so the skill that acted fails
and the tree can recover; nothing keeps moving on its own. The emergency stop stops the
arm at once, from any thread or a signal handler, and holds: every later `act` or `home`
raises `EmergencyStopError` until the operator releases it.

The hand's error registers are read at connect, before home and at every `observe` (once per
control tick): error bits stop the arm at once and latch a `HandFaultError`; from then on no
motion command reaches the arm or the hand, and the run ends. Nothing is written to any device
before every device has answered (the hand's speed and force limits are its first write).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dexagent.hardware.errors import (
    DriverError,
    EmergencyStopError,
    FaultStopError,
    HardwareError,
    UnsafeActionError,
)
from dexagent.hardware.real.arm import RealManArm
from dexagent.hardware.real.camera import DeviceFinder, RealSenseCamera, find_device
from dexagent.hardware.real.config import RealRobotConfig
from dexagent.hardware.real.hand import ModbusHand
from dexagent.hardware.types import ARM_DOF, HAND_DOF, Observation

FIRST_FRAME_S = 3.0  # how long a camera may take to deliver its first frame after it starts


class RealRobot:
    """A connected real robot; build it with `RealRobot.connect(config)` (or `make_robot(config)`)."""

    def __init__(
        self,
        config: RealRobotConfig,
        arm: RealManArm,
        hand: ModbusHand,
        head: RealSenseCamera,
        wrist: RealSenseCamera,
    ) -> None:
        self.config = config
        self.spec = config.spec()
        self.arm = arm
        self.hand = hand
        self.cameras = {"head": head, "wrist": wrist}
        self._started = time.monotonic()
        self._estop = threading.Event()
        self.estop_reason = ""
        self.fault: FaultStopError | None = None  # latched: set once, never cleared by this object
        self._closed = False

    @classmethod
    def connect(
        cls,
        config: RealRobotConfig,
        *,
        make_arm_sdk: Callable[[], Any] | None = None,
        find_camera: DeviceFinder = find_device,
    ) -> RealRobot:
        """Connect every device; whatever connected is released again when a later one fails."""
        opened: list[Callable[[], None]] = []
        try:
            arm_options = {"make_sdk": make_arm_sdk} if make_arm_sdk is not None else {}
            arm = RealManArm.connect(config.arm, config.control_hz, **arm_options)
            opened.append(arm.close)
            hand = ModbusHand.connect(config.hand)
            opened.append(hand.close)
            timeout = config.cameras.frame_timeout_s
            head = RealSenseCamera("head", config.cameras.head, timeout, find_camera).start()
            opened.append(head.stop)
            wrist = RealSenseCamera("wrist", config.cameras.wrist, timeout, find_camera).start()
            opened.append(wrist.stop)
            for camera in (head, wrist):  # a RealSense's first frame can take a while (auto-exposure)
                camera.wait_first_frame(max(timeout, FIRST_FRAME_S))
            # Every device answered: only now is anything written, and only to a healthy hand.
            hand.check()
            hand.configure()
        except BaseException:
            for release in reversed(opened):
                with contextlib.suppress(Exception):
                    release()
            raise
        return cls(config, arm, hand, head, wrist)

    # --- the Robot protocol ---------------------------------------------------------------

    def observe(self) -> Observation:
        """Latest head and wrist frames and the measured 13-D state (arm rad, hand [0, 1])."""
        try:
            head = self.cameras["head"].read()
            wrist = self.cameras["wrist"].read()
            state = np.concatenate([self.arm.read_joints(), self.hand.read_angles()]).astype(np.float32)
        except DriverError:
            self._stop_motion()  # blind or numb: nothing keeps moving on the last target
            raise
        self._check_hand()
        return Observation(head, wrist, state, time.monotonic() - self._started)

    def act(self, action: np.ndarray) -> None:
        """Stream the arm toward action[:7] (rad) and command the hand to action[7:] ([0, 1])."""
        self._refuse_if_stopped()
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (ARM_DOF + HAND_DOF,) or not np.all(np.isfinite(action)):
            raise UnsafeActionError(
                f"a real-robot action is {ARM_DOF + HAND_DOF} finite values, got {action!r}"
            )
        # The safety layer clamps before us; a value past the limits here is a bug: refuse it.
        spec = self.spec
        if np.any(action < spec.lower - 1e-5) or np.any(action > spec.upper + 1e-5):
            raise UnsafeActionError("action outside the joint limits reached the real robot; refused")
        try:
            self.arm.stream_to(action[:ARM_DOF])
            self.hand.command(action[ARM_DOF:])
        except DriverError:
            self._stop_motion()
            raise

    def home(self) -> None:
        """Planned move to the home pose with the hand open; returns on arrival.

        An emergency stop during the move (a signal handler, the e-stop key) halts the arm within
        one poll and raises `EmergencyStopError` with its reason."""
        self._refuse_if_stopped()
        self._check_hand()
        home = self.spec.home
        try:
            self.hand.command(home[ARM_DOF:])
            self.arm.move_to(home[:ARM_DOF])
        except DriverError:
            self._stop_motion()
            if self._estop.is_set():
                raise EmergencyStopError(f"{self.estop_reason} while homing") from None
            raise

    def command_hand(self, values: np.ndarray) -> None:
        """Move only the hand to `values` float[6] in [0, 1] (e.g. while the operator guides the arm)."""
        self._refuse_if_stopped()
        self.hand.command(np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0))

    def start_drag(self) -> None:
        """Let the operator guide the arm by hand (RealMan drag-teach mode)."""
        self._refuse_if_stopped()
        self.arm.start_drag()

    def stop_drag(self) -> None:
        """End drag-teach mode (also safe during an emergency stop)."""
        self.arm.stop_drag()

    def close(self) -> None:
        """Stop motion and release every device (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self._stop_motion()
        for release in (
            self.cameras["head"].stop,
            self.cameras["wrist"].stop,
            self.hand.close,
            self.arm.close,
        ):
            with contextlib.suppress(Exception):
                release()

    def __enter__(self) -> RealRobot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- stopping -------------------------------------------------------------------------

    def _stop_motion(self) -> None:
        """End the arm's stream and tell its controller to stop; never raises."""
        with contextlib.suppress(HardwareError):
            self.arm.stop()

    def emergency_stop(self, reason: str = "emergency stop") -> None:
        """Stop the arm now and hold until `release_emergency_stop` (safe from a signal handler)."""
        self.estop_reason = reason
        self._estop.set()
        self._stop_motion()

    def release_emergency_stop(self) -> None:
        """The operator's explicit release: motion commands are accepted again."""
        self._estop.clear()
        self.estop_reason = ""

    @property
    def emergency_stopped(self) -> bool:
        return self._estop.is_set()

    def _check_hand(self) -> None:
        """Read the hand's error bits; on any, stop the arm and latch the fault (then raise it)."""
        try:
            self.hand.check()
        except FaultStopError as fault:
            self.fault = fault
            self._stop_motion()
            raise
        except DriverError:
            self._stop_motion()
            raise

    def _refuse_if_stopped(self) -> None:
        if self.fault is not None:
            raise self.fault
        if self._estop.is_set():
            raise EmergencyStopError(f"{self.estop_reason}: holding; release it to move again")
        if self._closed:
            raise HardwareError("the real robot is closed")
