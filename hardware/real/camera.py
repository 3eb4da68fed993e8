"""`RealSenseCamera`: one Intel RealSense colour stream, opened by serial number, read latest-frame.

A reader thread keeps only the newest frame; `read()` returns it, or raises
`DeviceTimeoutError` when no frame came for `frame_timeout_s` (a camera unplugged, a USB
link that stalled): a control loop never waits on a camera for longer than that.
The device is found by `find_device(serial)`; tests hand in an `rs.software_device`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dexagent.hardware.errors import DeviceFaultError, DeviceTimeoutError, DeviceUnreachableError
from dexagent.hardware.real.config import CameraConfig

DeviceFinder = Callable[[str], Any]  # serial number -> rs.device
_POLL_MS = 100  # the reader thread's wait per attempt; bounds how long stop() takes


def _rs() -> Any:
    try:
        import pyrealsense2 as rs
    except ImportError as error:
        raise DeviceUnreachableError(
            "cameras",
            f"pyrealsense2 cannot be imported ({error}); pip install 'dexagent[real]' "
            "and, on Debian/Ubuntu, apt-get install libusb-1.0-0",
        ) from None
    return rs


def connected_serials() -> list[str]:
    """Serial numbers of the RealSense devices on this machine's USB."""
    rs = _rs()
    return [device.get_info(rs.camera_info.serial_number) for device in rs.context().query_devices()]


def find_device(serial: str) -> Any:
    """The connected RealSense device with this serial number."""
    rs = _rs()
    devices = list(rs.context().query_devices())
    for device in devices:
        if device.get_info(rs.camera_info.serial_number) == serial:
            return device
    found = [d.get_info(rs.camera_info.serial_number) for d in devices]
    raise DeviceUnreachableError(
        "cameras",
        f"no RealSense with serial {serial} is connected (found: {', '.join(found) or 'none'}); "
        "check the cable (USB 3) and the serial in the robot config",
    )


class RealSenseCamera:
    """A started colour stream; `read()` gives the latest uint8[H, W, 3] RGB frame."""

    def __init__(
        self, name: str, config: CameraConfig, frame_timeout_s: float, find: DeviceFinder = find_device
    ) -> None:
        self.name = name
        self.device_name = f"{name} camera (serial {config.serial})"
        self.config = config
        self.frame_timeout_s = frame_timeout_s
        self._find = find
        self._sensor: Any = None
        self._frames: Any = None
        self._latest: np.ndarray | None = None
        self._latest_at = 0.0
        self._frame_number = -1
        self._received = 0
        self._new_frame = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RealSenseCamera:
        """Open the device's colour sensor at the configured size and rate and start reading."""
        rs = _rs()
        device = self._find(self.config.serial)
        self._sensor, profile = self._colour_profile(rs, device)
        self._frames = rs.syncer(2)
        try:
            self._sensor.open(profile)
            self._sensor.start(self._frames)
        except RuntimeError as error:
            raise DeviceFaultError(self.device_name, f"cannot start the colour stream: {error}") from None
        self._latest_at = time.monotonic()  # the first frame's deadline counts from here
        self._thread = threading.Thread(target=self._read_frames, name=f"{self.name}-camera", daemon=True)
        self._thread.start()
        return self

    def _colour_profile(self, rs: Any, device: Any) -> tuple[Any, Any]:
        want = (self.config.width, self.config.height, self.config.fps)
        offered = []
        for sensor in device.query_sensors():
            for profile in sensor.get_stream_profiles():
                if profile.stream_type() != rs.stream.color or not profile.is_video_stream_profile():
                    continue
                video = profile.as_video_stream_profile()
                mode = (video.width(), video.height(), video.fps())
                if profile.format() == rs.format.rgb8 and mode == want:
                    return sensor, profile
                offered.append(f"{mode[0]}x{mode[1]}@{mode[2]} {profile.format()}")
        raise DeviceFaultError(
            self.device_name,
            f"offers no RGB8 colour stream at {want[0]}x{want[1]}@{want[2]} fps "
            f"(it offers: {', '.join(sorted(set(offered))) or 'no colour stream'})",
        )

    def _read_frames(self) -> None:
        while not self._stop.is_set():
            try:
                ok, frames = self._frames.try_wait_for_frames(_POLL_MS)
            except RuntimeError:
                return  # the device went away: read() reports the silence
            if not ok:
                continue
            frame = frames.first_or_default(_rs().stream.color)
            if not frame:
                continue
            image = np.asanyarray(frame.get_data()).copy()  # the SDK recycles its buffer
            with self._new_frame:
                self._latest = image
                self._latest_at = time.monotonic()
                self._frame_number = int(frame.get_frame_number())
                self._received += 1
                self._new_frame.notify_all()

    @property
    def frame_number(self) -> int:
        """The device's number of the latest frame (-1 before the first)."""
        return self._frame_number

    def wait_first_frame(self, timeout_s: float) -> None:
        """Return once the camera has delivered a frame; `DeviceTimeoutError` after `timeout_s`
        (a camera that opens but never streams is found before anything moves)."""
        if self._thread is None:
            raise DeviceFaultError(self.device_name, "wait_first_frame() before start()")
        deadline = time.monotonic() + timeout_s
        with self._new_frame:
            while self._received == 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeviceTimeoutError(
                        self.device_name, f"started, but no frame within {timeout_s:g} s of starting"
                    )
                self._new_frame.wait(remaining)

    def read(self) -> np.ndarray:
        """The latest frame uint8[H, W, 3]; waits at most `frame_timeout_s` for one when the last is
        older than that, then raises `DeviceTimeoutError` (the camera fell silent)."""
        if self._thread is None:
            raise DeviceFaultError(self.device_name, "read() before start()")
        with self._new_frame:
            now = time.monotonic()
            if self._latest is not None and now - self._latest_at <= self.frame_timeout_s:
                return self._latest
            seen, deadline = self._received, now + self.frame_timeout_s
            while self._received == seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    silent = time.monotonic() - self._latest_at
                    raise DeviceTimeoutError(
                        self.device_name,
                        f"no frame for {silent:.2f} s (limit {self.frame_timeout_s} s): "
                        "unplugged, or the USB link stalled",
                    )
                self._new_frame.wait(remaining)
            assert self._latest is not None
            return self._latest

    def stop(self) -> None:
        """Stop reading and release the sensor (safe to call twice)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * _POLL_MS / 1000 + 1)
            self._thread = None
        if self._sensor is not None:
            for release in (self._sensor.stop, self._sensor.close):
                with contextlib.suppress(RuntimeError):  # already stopped, or the device is gone
                    release()
            self._sensor = None
