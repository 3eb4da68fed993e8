"""PolicyController: receding-horizon control with the DiT policy, one action per 20 Hz tick.

Every tick the mask tracker follows the target and one action leaves a queue filled from
the latest chunk. Each chunk is predicted from the observation `execute_steps` ticks after
the previous one's, as the policy was trained and evaluated. The next chunk is inferred on
a background thread while the loop runs on the current chunk's later actions (the chunk's
tail beyond `execute_steps`), so a 20 Hz loop does not wait. Only when the worst inference
time seen is longer than that tail (H - execute_steps ticks) is the next chunk observed
earlier, by the difference. A chunk that arrives d ticks after its observation
skips its first d actions: they belong to ticks that have already passed; every tick's
action is the one its chunk planned for that tick.
`synchronous=True` instead predicts in the tick when `execute_steps` actions have run:
deterministic, for simulation where time does not advance while the policy thinks.
"""

from __future__ import annotations

import math
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dexagent.controller.cadence import StageStats
from dexagent.controller.checkpoint import load_checkpoint
from dexagent.controller.interfaces import MaskTracker
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.precision import PrecisionChoice, resolve_precision
from dexagent.controller.preprocess import observation_to_batch
from dexagent.hardware import Box, Observation, RobotSpec


class ControllerStateError(RuntimeError):
    """The controller was used out of order (act before reset)."""


@dataclass
class _Pending:
    future: Future[np.ndarray]
    launch_tick: int


class PolicyController:
    """Implements controller/interfaces.py `Controller` with a `DexGraspPolicy`."""

    def __init__(
        self,
        policy: DexGraspPolicy,
        tracker: MaskTracker,
        *,
        execute_steps: int | None = None,
        device: str | torch.device = "cpu",
        spec: RobotSpec | None = None,
        synchronous: bool = False,
        seed: int = 0,
        precision: PrecisionChoice = "auto",
    ) -> None:
        """`spec` gives the limits every action is clipped to (else the normaliser's action range).
        `precision` of every chunk: "auto" takes the config's `inference_precision`, whose "auto" is
        the measured default for the config on this device (controller/precision.py)."""
        self.policy = policy.to(device).eval()
        choice = precision if precision != "auto" else policy.config.inference_precision
        self.precision, self.precision_note = resolve_precision(
            choice, "inference", policy.config, self.policy.device
        )
        self.policy.cast_frozen_encoders(self.precision)
        self.tracker = tracker
        config = policy.config
        self.execute_steps = execute_steps or config.execute_steps
        if not 0 < self.execute_steps <= config.horizon:
            raise ValueError(f"execute_steps must be in 1..{config.horizon}, got {self.execute_steps}")
        norm = policy.normalizer
        if spec is not None:
            self.lower, self.upper = spec.lower, spec.upper
        else:  # no limits given: the range the policy can produce (around the state in delta mode)
            low, high = norm.action_envelope
            if config.action_mode == "delta":
                low, high = norm.state_min + low, norm.state_max + high
            self.lower, self.upper = low, high
        self.control_hz = spec.control_hz if spec is not None else 20.0
        self.synchronous = synchronous
        self.seed = seed
        self.stats: dict[str, StageStats] = {"track": StageStats(), "infer": StageStats()}
        self.starved_ticks = 0
        self.nonfinite_actions = 0
        self.ticks = 0
        self._executor: ThreadPoolExecutor | None = None
        self._pending: _Pending | None = None
        self._queue: deque[np.ndarray] = deque()
        self._first_mask: np.ndarray | None = None
        self._head_mask: np.ndarray | None = None
        self._chunk_tick = 0  # the tick of the observation the queued chunk was predicted from
        self._generator = torch.Generator()
        self._attempt = 0

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, tracker: MaskTracker, *, device: str = "cpu", **kwargs: object
    ) -> PolicyController:
        """A controller for the policy saved in `path` (raises CheckpointError for a bad one)."""
        return cls(load_checkpoint(path, device=device), tracker, device=device, **kwargs)  # type: ignore[arg-type]

    # -- Controller protocol ----------------------------------------------------------------
    def reset(self, observation: Observation, target_box: Box) -> None:
        """Start a new attempt: first-frame mask from the tracker, empty queue, first chunk launched."""
        self._drop_pending()
        self._queue.clear()
        self._chunk_tick = 0
        self._first_mask = self.tracker.start(observation, target_box)
        self._head_mask = self._first_mask
        self._generator.manual_seed(self.seed * 100_003 + self._attempt)
        self._attempt += 1
        self.ticks = 0
        if not self.synchronous:
            self._launch(observation)

    def act(self, observation: Observation) -> np.ndarray:
        """The next float32[J] action (one per joint of the robot), inside the limits."""
        if self._first_mask is None:
            raise ControllerStateError("PolicyController.act called before reset(observation, target_box)")
        start = time.perf_counter()
        self._head_mask = self.tracker.step(observation)
        self.stats["track"].add(time.perf_counter() - start)

        if self.synchronous:
            if self.ticks - self._chunk_tick >= self.execute_steps or not self._queue:
                self._install(self._predict(self._batch(observation)), self.ticks)
        else:
            if self._pending is None and self.ticks >= self._next_observation_tick():
                self._launch(observation)  # meanwhile the current chunk's tail keeps the loop going
            if self._pending is not None and (self._pending.future.done() or not self._queue):
                if not self._pending.future.done() and self.ticks > 0:
                    self.starved_ticks += 1  # the tail ran dry: this tick waits for inference
                self._install(self._pending.future.result(), self._pending.launch_tick)
                self._pending = None
        action = self._queue.popleft()
        self.ticks += 1
        return self._safe(action, observation)

    def close(self) -> None:
        """Stop background inference; safe to call twice."""
        self._drop_pending()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    # -- internals --------------------------------------------------------------------------
    def _next_observation_tick(self) -> int:
        """`execute_steps` ticks after the current chunk's observation, earlier only by what the
        chunk's tail cannot cover of the worst inference time seen (+1 tick for jitter)."""
        latency_ticks = math.ceil(self.stats["infer"].worst_s * self.control_hz) + 1
        uncovered = max(0, latency_ticks - (self.policy.config.horizon - self.execute_steps))
        return self._chunk_tick + max(1, self.execute_steps - uncovered)

    def _batch(self, observation: Observation) -> dict[str, torch.Tensor]:
        assert self._head_mask is not None and self._first_mask is not None
        config = self.policy.config
        return observation_to_batch(
            observation,
            self._head_mask,
            self._first_mask,
            config.image_size,
            self.ticks,
            config.wrist_input_size,
        )

    def _predict(self, batch: dict[str, torch.Tensor]) -> np.ndarray:
        start = time.perf_counter()
        chunk = self.policy.predict_chunk(batch, generator=self._generator, precision=self.precision)
        chunk = chunk[0].cpu().numpy()
        self.stats["infer"].add(time.perf_counter() - start)
        return chunk.astype(np.float32)

    def _launch(self, observation: Observation) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dexagent-infer")
        # Preprocess on the tick thread: the masks and images are this tick's, not a later one's.
        batch = self._batch(observation)
        self._pending = _Pending(self._executor.submit(self._predict, batch), launch_tick=self.ticks)

    def _install(self, chunk: np.ndarray, launch_tick: int) -> None:
        """Queue chunk (H, J) from the current tick on, skipping the ticks that passed since its
        observation (a chunk that arrives after its whole horizon still queues its last action)."""
        skip = min(self.ticks - launch_tick, len(chunk) - 1)
        self._queue = deque(chunk[skip:])
        self._chunk_tick = launch_tick

    def _drop_pending(self) -> None:
        if self._pending is not None:
            # Let a running inference finish (torch cannot be interrupted) but ignore its chunk.
            self._pending.future.cancel()
            self._pending = None

    def _safe(self, action: np.ndarray, observation: Observation) -> np.ndarray:
        action = np.asarray(action, dtype=np.float32)
        if not np.all(np.isfinite(action)):
            # A diverged policy must not move the robot: hold the measured joints instead.
            self.nonfinite_actions += 1
            action = np.where(np.isfinite(action), action, observation.state).astype(np.float32)
        return np.clip(action, self.lower, self.upper).astype(np.float32)
