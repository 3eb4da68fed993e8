"""Ctrl-C or SIGTERM during training: finish the current step, save it, stop — instead of losing the run."""

from __future__ import annotations

import signal
import threading

import torch
from accelerate import Accelerator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Context manager catching SIGINT and SIGTERM as a request; `requested()` says when to save and stop.

    Under `accelerate launch` every process gets the signal, maybe at different steps, so the
    request is agreed on across processes (any one asking stops all) to keep them in lock step.
    """

    def __init__(self, accelerator: Accelerator) -> None:
        self.accelerator = accelerator
        self._flag = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self._flag:  # a second Ctrl-C means now
            raise KeyboardInterrupt
        self._flag = True

    def requested(self, also: bool = False) -> bool:
        """Whether any process was interrupted (or `also` holds here)."""
        local = self._flag or also
        if self.accelerator.num_processes == 1:
            return local
        flag = torch.tensor(float(local), device=self.accelerator.device)
        return bool(self.accelerator.reduce(flag, "max").item() > 0)

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)  # type: ignore[arg-type]
