"""A stand-in for a RealMan arm behind the SDK's own Python interface (`RoboticArm`).

It has the SDK's method names, arguments and return conventions (codes 0/1/-1/-2/-3,
degrees, a handle with `id`), records every call, and lets a test make the controller
refuse, time out, or lose its link. It replaces only the physical arm and its controller;
connection failures are tested against the real SDK on loopback.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class Handle:
    id: int


class FakeRealMan:
    def __init__(self, joints_deg: list[float] | None = None) -> None:
        self.joints = list(joints_deg or [0.0, -20.0, 0.0, 126.0, 0.0, 74.5, 0.0])
        self.calls: list[tuple[str, float]] = []  # (method, monotonic time)
        self.canfd: list[tuple[list[float], bool]] = []
        self.movej: list[list[float]] = []
        self.codes: dict[str, int] = {}  # method -> the code it returns from now on
        self.estop = False
        self.deleted = False
        self.dragging = False
        self.addresses: list[str] = []  # what rm_create_robot_arm was given
        # > 0: an rm_movej travels there linearly over this many seconds (0: it is there at once);
        # rm_set_arm_stop halts it where it is.
        self.move_seconds = 0.0
        self._move: tuple[list[float], list[float], float] | None = None  # (from, to, started)
        self._lock = threading.Lock()

    def _record(self, name: str) -> int:
        with self._lock:
            self.calls.append((name, time.monotonic()))
        return self.codes.get(name, 0)

    def called(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)

    def rm_create_robot_arm(self, ip: str, port: int, level: int = 3) -> Handle:
        self._record("rm_create_robot_arm")
        self.addresses.append(ip)
        return Handle(1)

    def _travel(self) -> None:
        """Advance a move in progress to now."""
        if self._move is None:
            return
        start, end, started = self._move
        share = min(1.0, (time.monotonic() - started) / self.move_seconds)
        self.joints = [a + (b - a) * share for a, b in zip(start, end, strict=True)]
        if share >= 1.0:
            self._move = None

    def rm_get_joint_degree(self) -> tuple[int, list[float]]:
        self._travel()
        return self._record("rm_get_joint_degree"), list(self.joints)

    def rm_get_current_arm_state(self) -> tuple[int, dict[str, object]]:
        code = self._record("rm_get_current_arm_state")
        return code, {"joint": list(self.joints), "pose": [0.0] * 6, "err": {"err_len": 0, "err": []}}

    def rm_movej_canfd(self, joint: list[float], follow: bool, expand: float = 0) -> int:
        code = self._record("rm_movej_canfd")
        if code == 0 and not self.estop:
            self.canfd.append((list(joint), follow))
            self.joints = list(joint)
        return code

    def rm_movej(self, joint: list[float], v: int, r: int, connect: int, block: int) -> int:
        code = self._record("rm_movej")
        if code == 0 and not self.estop:
            self.movej.append(list(joint))
            if self.move_seconds > 0:
                self._move = (list(self.joints), list(joint), time.monotonic())
            else:
                self.joints = list(joint)
        return code

    def rm_set_arm_stop(self) -> int:
        self._travel()
        self._move = None
        return self._record("rm_set_arm_stop")

    def rm_set_arm_emergency_stop(self, state: bool) -> int:
        code = self._record("rm_set_arm_emergency_stop")
        if code == 0:
            self.estop = state
        return code

    def rm_start_drag_teach(self, trajectory_record: int) -> int:
        code = self._record("rm_start_drag_teach")
        self.dragging = code == 0
        return code

    def rm_stop_drag_teach(self) -> int:
        self.dragging = False
        return self._record("rm_stop_drag_teach")

    def rm_clear_system_err(self) -> int:
        return self._record("rm_clear_system_err")

    def rm_delete_robot_arm(self) -> int:
        self.deleted = True
        return self._record("rm_delete_robot_arm")
