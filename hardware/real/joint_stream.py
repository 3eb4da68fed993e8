"""`JointStreamer`: turns 20 Hz joint targets into a steady 100 Hz (or faster) set-point stream.

RealMan's `rm_movej_canfd` in follow mode executes each set-point without planning and
wants a new one every 10 ms or less; the agent decides every 50 ms. The streamer moves
linearly from where the last set-point was to the new target over one control period,
sending at `rate_hz` on a thread with absolute deadlines (no drift). A send that fails
stops the stream (the arm holds its last set-point) and the fault is re-raised to the
next caller, so a driver fault reaches the control loop instead of dying in a thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from dexagent.hardware.errors import HardwareError


class StreamStats:
    """How steady the stream was: sends, and the worst gap between two sends (seconds)."""

    def __init__(self) -> None:
        self.sends = 0
        self.worst_gap = 0.0
        self.late = 0  # periods whose deadline had already passed when the thread woke


class JointStreamer:
    """Streams interpolated set-points to `send(joints)`; `set_target` feeds it, `stop` halts it."""

    def __init__(
        self,
        send: Callable[[np.ndarray], None],
        start: np.ndarray,
        *,
        rate_hz: float = 100.0,
        control_hz: float = 20.0,
        name: str = "arm-stream",
    ) -> None:
        if rate_hz < control_hz:
            raise ValueError(
                f"the stream rate ({rate_hz} Hz) must be at least the control rate ({control_hz} Hz)"
            )
        self._send = send
        self.period = 1.0 / rate_hz
        self.steps_per_target = max(1, round(rate_hz / control_hz))
        self._lock = threading.Lock()
        self._from = np.asarray(start, dtype=np.float64).copy()
        self._to = self._from.copy()
        self._step = self.steps_per_target  # start finished: hold `start`
        self._last_sent = self._from.copy()
        self._fault: HardwareError | None = None
        self._stop = threading.Event()
        self.stats = StreamStats()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def set_target(self, target: np.ndarray) -> None:
        """Head for `target` over the next control period; raises the stream's fault if it has one."""
        with self._lock:
            if self._fault is not None:
                raise self._fault
            if not self.running:
                raise HardwareError("the joint stream is stopped; no motion is sent")
            self._from = self._last_sent.copy()
            self._to = np.asarray(target, dtype=np.float64).copy()
            self._step = 0

    def _next_setpoint(self) -> np.ndarray:
        with self._lock:
            if self._step < self.steps_per_target:
                self._step += 1
            fraction = self._step / self.steps_per_target
            return self._from + (self._to - self._from) * fraction

    def _run(self) -> None:
        deadline = time.perf_counter()
        previous: float | None = None
        while not self._stop.is_set():
            setpoint = self._next_setpoint()
            try:
                self._send(setpoint)
            except HardwareError as error:
                with self._lock:
                    self._fault = error
                return
            now = time.perf_counter()
            with self._lock:
                self._last_sent = setpoint
            if previous is not None:
                self.stats.worst_gap = max(self.stats.worst_gap, now - previous)
            previous = now
            self.stats.sends += 1
            deadline += self.period
            wait = deadline - time.perf_counter()
            if wait > 0:
                self._stop.wait(wait)
            else:
                self.stats.late += 1
                deadline = time.perf_counter()  # do not burst to catch up: resynchronise

    def stop(self) -> None:
        """Stop sending at once (the arm holds the last set-point); safe to call twice."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

    @property
    def fault(self) -> HardwareError | None:
        return self._fault
