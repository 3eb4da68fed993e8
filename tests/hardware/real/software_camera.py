"""A virtual RealSense colour camera: `rs.software_device` whose frames a thread injects at a set rate.

Everything past the device (sensor open/start, profiles, the syncer, frame buffers) is
librealsense's own code; only the USB camera is replaced.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pyrealsense2 as rs


class SoftwareCamera:
    def __init__(self, serial: str, width: int = 64, height: int = 48, fps: int = 30) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.device = rs.software_device()
        self.device.register_info(rs.camera_info.serial_number, serial)
        self.device.register_info(rs.camera_info.name, "Intel RealSense D435 (software)")
        self.sensor = self.device.add_sensor("RGB Camera")
        stream = rs.video_stream()
        stream.type, stream.index, stream.uid = rs.stream.color, 0, 0
        stream.width, stream.height, stream.fps, stream.bpp = width, height, fps, 3
        stream.fmt = rs.format.rgb8
        intrinsics = rs.intrinsics()
        intrinsics.width, intrinsics.height = width, height
        intrinsics.fx = intrinsics.fy = float(width)
        intrinsics.ppx, intrinsics.ppy = width / 2, height / 2
        intrinsics.model = rs.distortion.none
        stream.intrinsics = intrinsics
        self.profile = self.sensor.add_video_stream(stream).as_video_stream_profile()
        self.sent = 0
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def image(self, number: int) -> np.ndarray:
        """The frame `number` shows: a value ramp that identifies it, row by row."""
        image = np.zeros((self.height, self.width, 3), np.uint8)
        image[..., 0] = number % 256
        image[..., 1] = np.arange(self.height, dtype=np.uint8)[:, None]
        image[..., 2] = np.arange(self.width, dtype=np.uint8)[None, :]
        return image

    def _feed(self) -> None:
        while self._running.is_set():
            frame = rs.software_video_frame()
            frame.pixels = self.image(self.sent)
            frame.bpp, frame.stride = 3, self.width * 3
            frame.timestamp = self.sent * 1000.0 / self.fps
            frame.domain = rs.timestamp_domain.hardware_clock
            frame.frame_number = self.sent
            frame.profile = self.profile
            self.sensor.on_video_frame(frame)
            self.sent += 1
            time.sleep(1.0 / self.fps)

    def start_streaming(self) -> None:
        self._running.set()
        self._thread = threading.Thread(target=self._feed, daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        """Stop sending frames, as a camera pulled from its USB port."""
        self._running.clear()
        if self._thread is not None:
            self._thread.join()
