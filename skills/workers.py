"""Where skills run slow calls: a small pool of daemon threads, so a call that hangs never outlives the run.

A planner server that accepts a request and never answers holds its worker for the
client's timeout times its retries (minutes). `concurrent.futures.ThreadPoolExecutor`
joins its workers when the interpreter exits, so a stopped run would wait for that call;
these workers are daemon threads, abandoned at exit, and the run ends when it is stopped.
Like a thread pool, at most `max_workers` calls run at once and the rest wait their turn:
planner calls judge the scene as it is when they run, so a burst of them must not all run
side by side against one changing scene (a thread per call did, and verdicts went stale).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")
_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonExecutor(Executor):
    """A thread pool of `max_workers` daemon threads, started as calls arrive."""

    def __init__(self, max_workers: int = 2, thread_name_prefix: str = "skill") -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self._max_workers = max_workers
        self._prefix = thread_name_prefix
        self._lock = threading.Lock()
        self._shut = False
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._shut:
                raise RuntimeError("cannot submit after shutdown")
            self._queue.put((future, fn, args, kwargs))
            if self._idle == 0 and len(self._threads) < self._max_workers:
                name = f"{self._prefix}-{len(self._threads) + 1}"
                thread = threading.Thread(target=self._work, name=name, daemon=True)
                self._threads.append(thread)
                thread.start()
            else:
                self._idle = max(0, self._idle - 1)
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:  # shutdown
                return
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as error:  # handed to whoever polls the future
                    future.set_exception(error)
                else:
                    future.set_result(result)
            with self._lock:
                self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new calls; with `wait`, join the calls still running (never needed to exit)."""
        with self._lock:
            self._shut = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join()
