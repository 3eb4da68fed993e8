"""`RealSenseCamera` against librealsense with a virtual colour device (`rs.software_device`)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from software_camera import SoftwareCamera

from dexagent.hardware.errors import DeviceFaultError, DeviceTimeoutError, DeviceUnreachableError
from dexagent.hardware.real.camera import RealSenseCamera, find_device
from dexagent.hardware.real.config import CameraConfig

SERIAL = "123456789012"


def _camera(source: SoftwareCamera, timeout: float = 0.3, **size: int) -> RealSenseCamera:
    config = CameraConfig.model_validate({"serial": SERIAL, "width": 64, "height": 48, "fps": 30, **size})
    return RealSenseCamera("head", config, timeout, find=lambda serial: source.device)


def test_reads_return_the_latest_frame_as_rgb() -> None:
    source = SoftwareCamera(SERIAL)
    camera = _camera(source).start()
    source.start_streaming()
    try:
        first = camera.read()
        assert first.shape == (48, 64, 3) and first.dtype == np.uint8
        number = camera.frame_number
        assert np.array_equal(first, source.image(number))  # pixels and channel order survive the SDK
        time.sleep(0.2)
        later = camera.read()
        assert camera.frame_number > number  # latest-frame: old frames are dropped, not queued
        assert np.array_equal(later, source.image(camera.frame_number))
    finally:
        source.unplug()
        camera.stop()


def test_a_camera_that_disappears_raises_within_its_timeout() -> None:
    source = SoftwareCamera(SERIAL)
    camera = _camera(source, timeout=0.3).start()
    try:
        with pytest.raises(DeviceTimeoutError, match=f"head camera \\(serial {SERIAL}\\): no frame for"):
            camera.read()  # started, never streamed
        source.start_streaming()
        camera.read()
        source.unplug()
        started = time.monotonic()
        with pytest.raises(DeviceTimeoutError, match="unplugged"):
            while time.monotonic() - started < 2.0:
                camera.read()
        assert time.monotonic() - started < 0.3 + 0.3 + 0.2  # fresh for 0.3 s, then one 0.3 s wait
    finally:
        camera.stop()
        camera.stop()  # twice is fine


def test_a_mode_the_camera_lacks_is_named_with_what_it_offers() -> None:
    source = SoftwareCamera(SERIAL)
    with pytest.raises(
        DeviceFaultError, match=r"no RGB8 colour stream at 640x480@30 fps \(it offers: 64x48@30"
    ):
        _camera(source, width=640, height=480).start()


def test_a_serial_that_is_not_connected_is_named() -> None:
    with pytest.raises(DeviceUnreachableError, match=f"no RealSense with serial {SERIAL} is connected"):
        find_device(SERIAL)
