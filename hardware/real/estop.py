"""Emergency-stop triggers: a POSIX signal and a key on the operator's terminal.

Both call `stop(reason)` at once (the signal handler runs it on the main thread between two
bytecodes; the key watcher on its own thread), not at the next control tick. `RealRobot.
emergency_stop` is written to be safe from either.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

KEYS = {"space": " ", "escape": "\x1b", "s": "s", "e": "e"}


@contextmanager
def signal_estop(signal_name: str, stop: Callable[[str], None]) -> Iterator[None]:
    """While inside, the signal `signal_name` ("SIGUSR1", ...; "none": nothing) calls `stop`."""
    if signal_name == "none" or threading.current_thread() is not threading.main_thread():
        yield
        return
    number = getattr(signal, signal_name)

    def handler(signum: int, frame: FrameType | None) -> None:
        stop(f"emergency stop ({signal_name})")

    previous = signal.signal(number, handler)
    try:
        yield
    finally:
        signal.signal(number, previous)


@contextmanager
def key_estop(key: str | None, stop: Callable[[str], None], stream: object = None) -> Iterator[None]:
    """While inside, pressing `key` on the terminal calls `stop` (no-op when stdin is not a terminal)."""
    source = stream if stream is not None else sys.stdin
    if key is None or not hasattr(source, "fileno"):
        yield
        return
    try:
        fd = source.fileno()  # type: ignore[attr-defined]
    except (OSError, ValueError):
        yield
        return
    if not os.isatty(fd):
        yield
        return
    import termios
    import tty

    wanted = KEYS.get(key, key)
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready and os.read(fd, 1).decode(errors="replace") == wanted:
                stop(f"emergency stop ({key} key)")

    thread = threading.Thread(target=watch, name="estop-key", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=1)
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
