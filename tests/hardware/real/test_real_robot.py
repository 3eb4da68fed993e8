"""`RealRobot` end to end: the stand-in arm behind the SDK interface, a pymodbus hand server on
127.0.0.1, two librealsense software cameras; faults stop the arm, the emergency stop holds."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from fake_realman import FakeRealMan
from modbus_hand_sim import HandState, free_port, tcp_hand
from real_rig import HEAD, WRIST, Rig, robot_config

from dexagent.hardware import SafeRobot
from dexagent.hardware.config_file import load_robot_config
from dexagent.hardware.errors import (
    DeviceTimeoutError,
    DeviceUnreachableError,
    EmergencyStopError,
    UnsafeActionError,
)
from dexagent.hardware.real.estop import key_estop, signal_estop
from dexagent.hardware.real.robot import RealRobot
from dexagent.hardware.registry import make_robot


def test_observe_reads_both_cameras_and_the_state_in_our_units(rig: Rig) -> None:
    observation = rig.robot.observe()
    assert observation.head_rgb.shape == (48, 64, 3) and observation.wrist_rgb.shape == (48, 64, 3)
    assert observation.state.dtype == np.float32 and observation.state.shape == (13,)
    assert np.allclose(observation.state[:7], np.radians(rig.arm.joints), atol=1e-6)
    assert np.allclose(observation.state[7:], 1.0)
    assert observation.head_segmentation is None


def test_actions_go_through_the_safety_layer_to_the_arm_stream_and_the_hand(rig: Rig) -> None:
    robot = SafeRobot(rig.robot)
    start = robot.observe().state
    target = start.copy()
    target[0] += 0.05
    target[7:] = 0.0  # close every finger
    robot.act(target)
    deadline = time.monotonic() + 5
    while not rig.arm.canfd or abs(rig.arm.canfd[-1][0][0] - np.degrees(target[0])) > 1e-3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert rig.hand.angles == [750] * 6  # the hand moves at most 0.25 per tick (safety layer)
    robot.act(np.full(13, 50.0))  # far outside the limits: clamped and rate-limited by the safety layer
    assert all(abs(j - np.degrees(s)) <= 8.0 + 1e-3 for j, s in zip(rig.arm.joints, target[:7], strict=False))
    with pytest.raises(UnsafeActionError, match="outside the joint limits reached the real robot"):
        rig.robot.act(np.full(13, 50.0))  # bypassing the safety layer is refused, not sent


def test_a_silent_hand_stops_the_arm_and_raises_a_driver_fault(rig: Rig) -> None:
    state = rig.robot.observe().state
    rig.robot.act(state)
    rig.hand.silent = True
    with pytest.raises(DeviceTimeoutError, match="hand: no answer"):
        rig.robot.act(state)
    assert rig.arm.called("rm_set_arm_stop") == 1
    sends = rig.arm.called("rm_movej_canfd")
    time.sleep(0.05)
    assert rig.arm.called("rm_movej_canfd") == sends  # the stream ended: nothing moves on its own
    rig.hand.silent = False
    rig.robot.act(state)  # the hand answers again: the next action streams again (recovery)


def test_a_signal_triggers_the_emergency_stop_at_once_and_it_holds(rig: Rig) -> None:
    state = rig.robot.observe().state
    rig.robot.act(state)
    with signal_estop("SIGUSR1", rig.robot.emergency_stop):
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.01)  # the handler runs between two bytecodes of this thread
    assert rig.robot.emergency_stopped and rig.arm.called("rm_set_arm_stop") == 1
    sends = rig.arm.called("rm_movej_canfd")
    for call in (lambda: rig.robot.act(state), rig.robot.home):
        with pytest.raises(EmergencyStopError, match=r"emergency stop \(SIGUSR1\): holding"):
            call()
    assert rig.arm.called("rm_movej_canfd") == sends and not rig.arm.movej
    rig.robot.release_emergency_stop()
    rig.robot.home()
    assert rig.arm.movej


def test_a_key_on_the_terminal_triggers_the_emergency_stop(rig: Rig) -> None:
    master, slave = os.openpty()
    with (
        os.fdopen(slave, "rb", buffering=0) as terminal,
        key_estop("space", rig.robot.emergency_stop, terminal),
    ):
        os.write(master, b"x")  # other keys do nothing
        time.sleep(0.2)
        assert not rig.robot.emergency_stopped
        os.write(master, b" ")
        deadline = time.monotonic() + 2
        while not rig.robot.emergency_stopped:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    os.close(master)
    assert rig.robot.estop_reason == "emergency stop (space key)"


def test_a_camera_that_disappears_surfaces_as_a_driver_fault(rig: Rig) -> None:
    rig.cameras[WRIST].unplug()
    with pytest.raises(DeviceTimeoutError, match=f"wrist camera \\(serial {WRIST}\\): no frame"):
        for _ in range(100):
            rig.robot.observe()
            time.sleep(0.02)


def test_a_failed_connect_releases_what_had_connected() -> None:
    state = HandState()
    arm = FakeRealMan()
    with tcp_hand(state) as (port, _), pytest.raises(DeviceUnreachableError, match=f"serial {HEAD}"):
        RealRobot.connect(robot_config(port), make_arm_sdk=lambda: arm)  # no cameras on this machine
    assert arm.deleted


def test_make_robot_from_a_config_file_reaches_the_real_drivers(tmp_path: Path) -> None:
    path = tmp_path / "robot.yaml"
    closed = free_port()
    path.write_text(
        f"type: real\narm:\n  ip: 127.0.0.1\n  port: {closed}\n"
        f"cameras:\n  head: {{serial: '{HEAD}'}}\n  wrist: {{serial: '{WRIST}'}}\n"
    )
    with pytest.raises(DeviceUnreachableError, match=f"no RealMan controller answers at 127.0.0.1:{closed}"):
        make_robot(load_robot_config(path))  # the official SDK, a closed port: fails at once
