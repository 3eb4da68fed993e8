"""The rig every RealRobot test drives: the stand-in arm behind the SDK interface, a simulated
Modbus hand on 127.0.0.1 and two librealsense software cameras."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_realman import FakeRealMan
from modbus_hand_sim import HandState, tcp_hand
from software_camera import SoftwareCamera

from dexagent.hardware.real.config import RealRobotConfig
from dexagent.hardware.real.robot import RealRobot

HEAD, WRIST = "111111111111", "222222222222"


def robot_config(hand_port: int, **fields: object) -> RealRobotConfig:
    return RealRobotConfig.model_validate(
        {
            "hand": {"host": "127.0.0.1", "port": hand_port, "timeout_s": 0.2, "retries": 0},
            "cameras": {
                "head": {"serial": HEAD, "width": 64, "height": 48},
                "wrist": {"serial": WRIST, "width": 64, "height": 48},
                "frame_timeout_s": 0.5,
            },
            **fields,
        }
    )


class Rig:
    def __init__(
        self, robot: RealRobot, arm: FakeRealMan, hand: HandState, cameras: dict[str, SoftwareCamera]
    ):
        self.robot, self.arm, self.hand, self.cameras = robot, arm, hand, cameras


@pytest.fixture
def rig() -> Iterator[Rig]:
    state = HandState()
    cameras = {HEAD: SoftwareCamera(HEAD), WRIST: SoftwareCamera(WRIST)}
    arm = FakeRealMan()
    for camera in cameras.values():
        camera.start_streaming()  # streaming, as a plugged-in camera: connect waits for its first frame
    with tcp_hand(state) as (port, _):
        robot = RealRobot.connect(
            robot_config(port), make_arm_sdk=lambda: arm, find_camera=lambda s: cameras[s].device
        )
        try:
            yield Rig(robot, arm, state, cameras)
        finally:
            robot.close()
            for camera in cameras.values():
                camera.unplug()
