"""A stop while the real arm homes (before the run loop) halts it at once, end to end.

Homing is one planned move of a few seconds; the SDK's blocking call would hold Ctrl-C until
the arm arrived. The arm here travels for 3 s (`FakeRealMan.move_seconds`).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest
from real_cli import RealCli

from dexagent.cli.errors import EXIT_INTERRUPTED
from dexagent.hardware.real.arm import MOVE_POLL_S

TRAVEL_S = 3.0


def _signal_once_moving(real_cli: RealCli, signum: int, after_s: float = 0.3) -> dict[str, float]:
    """Send `signum` to this process `after_s` after the arm started its move; when it was sent."""
    sent: dict[str, float] = {}

    def send() -> None:
        deadline = time.monotonic() + 10
        while real_cli.arm.called("rm_movej") == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(after_s)
        sent["at"] = time.monotonic()
        os.kill(os.getpid(), signum)

    threading.Thread(target=send, daemon=True).start()
    return sent


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_while_homing_halts_the_arm_within_a_poll_and_exits_130(
    real_cli: RealCli, signum: int, fault_row: Callable[..., None]
) -> None:
    real_cli.arm.move_seconds = TRAVEL_S
    real_cli.arm.joints = start = [30.0, 0.0, 20.0, 90.0, -20.0, 40.0, 30.0]  # tens of degrees from home
    sent = _signal_once_moving(real_cli, signum)
    code, output, seconds = real_cli.run()

    assert code == EXIT_INTERRUPTED, output
    what = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
    assert f"stopped by the operator ({what}); the arm holds where it stopped" in output
    stops = [at for name, at in real_cli.arm.calls if name == "rm_set_arm_stop" and at >= sent["at"]]
    assert stops and stops[0] - sent["at"] < 0.1 + MOVE_POLL_S  # not after the 3 s move
    latency_ms = (stops[0] - sent["at"]) * 1000
    assert seconds < TRAVEL_S
    # The arm stopped part way: it moved, and it is not at the home pose.
    home = real_cli.arm.movej[0]
    moved = np.abs(np.subtract(real_cli.arm.joints, start)).max()
    left = np.abs(np.subtract(real_cli.arm.joints, home)).max()
    assert moved > 0.5 and left > 1.0, (moved, left)
    assert real_cli.arm.canfd == []  # the run loop never streamed a set-point
    fault = f"{what} while the real arm homes (`run --robot real`): arm stopped {latency_ms:.0f} ms later"
    fault_row(fault, code, seconds, "none", "none")
