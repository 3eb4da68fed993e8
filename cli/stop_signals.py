"""Ctrl-C and SIGTERM during `dexagent run` (sim or real): stop the run loop safely, say which it was;
before the loop (homing the real arm), stop at once."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from dexagent.agent.runner import AgentRun
from dexagent.cli.errors import err_console


@contextmanager
def _handling(
    handler: Callable[[int, FrameType | None], None], restore: Callable[[], bool] = lambda: True
) -> Iterator[None]:
    """`handler` for Ctrl-C and SIGTERM inside the block, on the main thread (the only one that can
    handle signals; elsewhere, e.g. a test runner's worker, nothing changes). On the way out the
    previous handlers come back, or, when `restore()` says no, both signals are ignored.

    Set explicitly: a process started in the background inherits SIGINT as ignored, and then
    Python never installs its own handler; Python's SIGTERM ends the process without unwinding.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        keep = restore()
        for sig, old in previous.items():
            signal.signal(sig, old if keep else signal.SIG_IGN)


@contextmanager
def stop_signals(agent: AgentRun) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) asks the run loop to stop safely at the next tick; a second one aborts at once;
    once the loop is over, more are ignored while the log and the summary are written."""

    def stop(signum: int, frame: FrameType | None) -> None:
        if agent.stop_was_requested:
            if agent.in_loop:
                raise KeyboardInterrupt  # the operator insists: stop now, still safely (see AgentRun.run)
            return  # already stopping, or the run is over and its log and summary are being written
        what = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
        agent.request_stop(f"stopped by the operator ({what})")
        err_console.print(f"[yellow]stopping safely ({what}; Ctrl-C again to stop at once)...[/]")

    # Stopped: the command is exiting, and one more Ctrl-C must not turn that into a traceback.
    with _handling(stop, restore=lambda: not agent.stop_was_requested):
        yield


@contextmanager
def interrupt_at_once() -> Iterator[None]:
    """Ctrl-C and SIGTERM raise `KeyboardInterrupt` where the main thread is, so whatever moves the
    robot there (homing the arm) stops it on the way out (`RealManArm.move_to`)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt("SIGTERM" if signum == signal.SIGTERM else "Ctrl-C")

    with _handling(interrupt):
        yield
