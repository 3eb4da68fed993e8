"""`RealManArm`: the official SDK on loopback for connection failures, a stand-in arm for motion."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from fake_realman import FakeRealMan

from dexagent.hardware.errors import DeviceFaultError, DeviceTimeoutError, DeviceUnreachableError
from dexagent.hardware.real.arm import RETURN_CODES, RealManArm, check_code, official_sdk
from dexagent.hardware.real.config import ArmConfig


class _Spy:
    """Forwards to the real SDK object and records which methods were called."""

    def __init__(self, sdk: object) -> None:
        self._sdk = sdk
        self.called: list[str] = []

    def __getattr__(self, name: str) -> object:
        self.called.append(name)
        return getattr(self._sdk, name)


@contextmanager
def _silent_listener() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a controller that hung)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        server.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("listener", ["closed", "silent"])
def test_the_official_sdk_fails_to_connect_and_the_dead_handle_is_never_used(listener: str) -> None:
    spies: list[_Spy] = []

    def make_sdk() -> _Spy:
        spies.append(_Spy(official_sdk()))
        return spies[-1]

    with _silent_listener() as silent_port:
        port = _closed_port() if listener == "closed" else silent_port
        started = time.monotonic()
        with pytest.raises(
            DeviceUnreachableError, match=f"no RealMan controller answers at 127.0.0.1:{port}"
        ):
            RealManArm.connect(ArmConfig(ip="127.0.0.1", port=port), make_sdk=make_sdk)
        assert time.monotonic() - started < 3.0
    # Only the connect attempt reached the SDK: no motion, no delete on the failed handle.
    assert spies[0].called == ["rm_create_robot_arm"]


def test_return_codes_map_to_exceptions_with_their_meaning() -> None:
    check_code(0, "rm_movej")
    with pytest.raises(DeviceFaultError, match="rm_movej failed with code 1: the controller refused"):
        check_code(1, "rm_movej")
    with pytest.raises(DeviceUnreachableError, match="code -1: the command could not be sent"):
        check_code(-1, "rm_movej")
    with pytest.raises(DeviceTimeoutError, match="code -2: no reply"):
        check_code(-2, "rm_movej")
    with pytest.raises(DeviceFaultError, match="code -3: the controller's reply could not be parsed"):
        check_code(-3, "rm_movej")
    with pytest.raises(DeviceFaultError, match="code 7: an unknown return code"):
        check_code(7, "rm_movej")
    assert set(RETURN_CODES) == {0, 1, -1, -2, -3}


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the stream"
        time.sleep(0.01)


def _arm(fake: FakeRealMan, **options: object) -> RealManArm:
    return RealManArm.connect(ArmConfig.model_validate(options), make_sdk=lambda: fake)


def test_degrees_at_the_boundary_radians_inside() -> None:
    fake = FakeRealMan([10.0, -20.0, 30.0, 90.0, 0.0, 45.0, -180.0])
    arm = _arm(fake)
    try:
        assert np.allclose(arm.read_joints(), np.radians(fake.joints))
        target = np.array([0.1, -0.2, 0.3, 1.5, 0.0, 0.7, 0.0])
        arm.move_to(target)
        assert np.allclose(fake.movej[-1], np.degrees(target))
        with pytest.raises(DeviceFaultError, match="outside the arm limits"):
            arm.move_to(np.array([0, 0, 0, math.radians(170), 0, 0, 0]))  # joint4 limit is 135 deg
        with pytest.raises(DeviceFaultError, match="7 finite angles"):
            arm.stream_to(np.full(7, np.nan))
    finally:
        arm.close()
    assert fake.deleted


def test_a_move_returns_on_arrival_and_anything_that_ends_the_wait_stops_the_arm() -> None:
    fake = FakeRealMan()
    fake.move_seconds = 0.3
    arm = _arm(fake)
    target = np.radians([5.0, -15.0, 5.0, 120.0, 5.0, 70.0, 5.0])
    try:
        started = time.monotonic()
        arm.move_to(target)  # the SDK call returns at once; the arrival is polled
        assert 0.25 < time.monotonic() - started < 2.0
        assert np.allclose(fake.joints, np.degrees(target), atol=0.5) and fake.called("rm_set_arm_stop") == 0

        fake.move_seconds = 5.0  # an arm that does not get there in time is stopped and located
        with pytest.raises(
            DeviceFaultError, match=r"did not arrive within 0.2 s \(joint 4 is .* deg off\); it was stopped"
        ):
            arm.move_to(np.radians([5.0, -15.0, 5.0, 60.0, 5.0, 70.0, 5.0]), timeout_s=0.2)
        assert fake.called("rm_set_arm_stop") == 1

        stopper = threading.Timer(0.2, arm.stop)  # stop() from another thread (an e-stop) ends it
        stopper.start()
        with pytest.raises(DeviceFaultError, match="stopped before the arm arrived"):
            arm.move_to(target)
        assert fake.called("rm_set_arm_stop") == 2

        def interrupt(joints: np.ndarray) -> np.ndarray:  # Ctrl-C lands in the poll loop
            raise KeyboardInterrupt

        original = arm.read_joints
        arm.read_joints = lambda: interrupt(original())  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            arm.move_to(np.radians([0.0, -20.0, 0.0, 126.0, 0.0, 74.5, 0.0]))
        assert fake.called("rm_set_arm_stop") == 3
    finally:
        arm.close()


def test_targets_at_20_hz_become_an_interpolated_100_hz_canfd_stream() -> None:
    fake = FakeRealMan([0.0] * 7)
    arm = _arm(fake, stream_hz=100.0)
    try:
        target = np.radians([5.0, 0, 0, 0, 0, 0, 0])
        arm.stream_to(target)
        _wait_for(lambda: len([j for j, _ in fake.canfd if j[0] > 4.999]) >= 3)
        first = [joints[0] for joints, _ in fake.canfd]
        assert all(follow for _, follow in fake.canfd)
        while first and first[0] == 0.0:  # the stream holds the start pose until the first target
            first.pop(0)
        # five 10 ms steps of 1 deg from 0 to 5 deg, then the target is held
        assert first[:5] == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0])
        assert first[5:] == pytest.approx([5.0] * len(first[5:]))
        assert np.all(np.diff(first) >= 0) and max(np.diff(first)) <= 1.0 + 1e-9
    finally:
        arm.close()


def test_a_failing_link_stops_the_stream_and_surfaces_at_the_next_target() -> None:
    fake = FakeRealMan([0.0] * 7)
    arm = _arm(fake)
    arm.stream_to(np.zeros(7))
    _wait_for(lambda: fake.called("rm_movej_canfd") > 0)
    fake.codes["rm_movej_canfd"] = -2  # the controller stops answering
    _wait_for(lambda: arm.stream_fault is not None)
    sent = fake.called("rm_movej_canfd")
    time.sleep(0.05)
    assert fake.called("rm_movej_canfd") == sent  # no more motion after the first failure
    with pytest.raises(DeviceTimeoutError, match="rm_movej_canfd failed with code -2"):
        arm.stream_to(np.zeros(7))
    with pytest.raises(DeviceUnreachableError, match="refused: the link to the arm failed earlier"):
        arm.move_to(np.zeros(7))
    arm.close()
    assert not fake.deleted  # a dead link is never deleted (the SDK can hang there)


def test_a_stop_from_a_signal_handler_while_the_caller_holds_the_sdk_lock_does_not_deadlock() -> None:
    fake = FakeRealMan([0.0] * 7)
    arm = _arm(fake)
    try:
        arm.stream_to(np.radians([10.0, 0, 0, 0, 0, 0, 0]))
        _wait_for(lambda: fake.called("rm_movej_canfd") > 0)
        with arm._lock:  # as if the main thread were inside an SDK call when the signal came
            started = time.monotonic()
            arm.stop()
            assert time.monotonic() - started < 1.5
        stopped_at = next(t for name, t in fake.calls if name == "rm_set_arm_stop")
        time.sleep(0.05)
        assert not [t for name, t in fake.calls if name == "rm_movej_canfd" and t > stopped_at]
    finally:
        arm.close()


def test_a_refused_command_is_a_fault_but_the_link_stays_usable() -> None:
    fake = FakeRealMan()
    arm = _arm(fake)
    try:
        fake.codes["rm_movej"] = 1
        with pytest.raises(DeviceFaultError, match="the controller refused"):
            arm.move_to(np.radians(fake.joints))
        fake.codes["rm_movej"] = 0
        arm.clear_errors()
        arm.move_to(np.radians(fake.joints))
        assert fake.called("rm_clear_system_err") == 1
    finally:
        arm.close()


def test_stop_ends_the_stream_at_once_and_emergency_stop_holds() -> None:
    fake = FakeRealMan([0.0] * 7)
    arm = _arm(fake)
    try:
        arm.stream_to(np.radians([10.0, 0, 0, 0, 0, 0, 0]))
        _wait_for(lambda: fake.called("rm_movej_canfd") > 0)
        arm.stop()
        assert fake.called("rm_set_arm_stop") == 1
        stopped_at = next(t for name, t in fake.calls if name == "rm_set_arm_stop")
        time.sleep(0.05)
        assert not [t for name, t in fake.calls if name == "rm_movej_canfd" and t > stopped_at]
        arm.emergency_stop(True)
        assert fake.estop
        arm.emergency_stop(False)
        assert not fake.estop
    finally:
        arm.close()


def test_a_host_name_is_resolved_before_the_sdk_sees_it() -> None:
    arm = FakeRealMan()
    # An address of 21+ characters crashes the real SDK (SIGSEGV in rm_create_robot_arm, 1.1.6).
    name = "a-controller-name-of-more-than-twenty.invalid"
    with pytest.raises(DeviceUnreachableError, match=f"cannot resolve the arm's address '{name}'"):
        RealManArm.connect(ArmConfig(ip=name), make_sdk=lambda: arm)
    assert arm.addresses == []
    RealManArm.connect(ArmConfig(ip="localhost"), make_sdk=lambda: arm).close()
    assert arm.addresses == ["127.0.0.1"]
