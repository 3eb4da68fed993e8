"""Where skills run slow calls: daemon threads, so a call that hangs never outlives the run.

A planner server that accepts a request and never answers holds its worker for the
client's timeout times its retries (minutes). `concurrent.futures.ThreadPoolExecutor`
joins its workers when the interpreter exits, so a stopped run would wait for that call;
these workers are daemon threads, abandoned at exit, and the run ends when it is stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")


class DaemonExecutor(Executor):
    """Runs each submitted call on its own daemon thread (skills submit a few calls per attempt)."""

    def __init__(self, thread_name_prefix: str = "skill") -> None:
        self._prefix = thread_name_prefix
        self._lock = threading.Lock()
        self._shut = False
        self._count = 0
        self._threads: list[threading.Thread] = []

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:  # handed to whoever polls the future
                future.set_exception(error)
            else:
                future.set_result(result)

        with self._lock:
            if self._shut:
                raise RuntimeError("cannot submit after shutdown")
            self._count += 1
            thread = threading.Thread(target=work, name=f"{self._prefix}-{self._count}", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new calls; with `wait`, join the calls still running (never needed to exit)."""
        with self._lock:
            self._shut = True
            threads = list(self._threads)
        if wait:
            for thread in threads:
                thread.join()
