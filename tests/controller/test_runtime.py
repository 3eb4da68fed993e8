"""PolicyController: receding horizon, background inference, limits, starvation accounting."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dexagent.controller.cadence import Pacer
from dexagent.controller.checkpoint import save_checkpoint
from dexagent.controller.interfaces import Controller
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.runtime import ControllerStateError, PolicyController
from dexagent.controller.trackers import OracleTracker
from dexagent.hardware import Box, Observation, RobotSpec

torch.set_num_threads(1)

SPEC = RobotSpec(
    joint_names=tuple(f"j{i}" for i in range(13)),
    lower=np.full(13, -1.0, np.float32),
    upper=np.full(13, 1.0, np.float32),
    home=np.zeros(13, np.float32),
)
TARGET_BOX = Box(8, 8, 16, 16)
# Limits wide enough that `_PlanPolicy`'s planned actions (the tick numbers) pass unclipped.
WIDE_SPEC = RobotSpec(
    SPEC.joint_names, np.full(13, -1e3, np.float32), np.full(13, 1e3, np.float32), SPEC.home
)


def _observation(step: int = 0) -> Observation:
    rng = np.random.default_rng(step)
    segmentation = -np.ones((32, 32), np.int32)
    segmentation[10 : 14 + step % 3, 10:14] = 1
    return Observation(
        head_rgb=rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
        wrist_rgb=rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
        state=np.zeros(13, np.float32),
        t=step / 20,
        head_segmentation=segmentation,
    )


def _wide_policy(tiny_config, randomize, action_mode: str = "delta") -> DexGraspPolicy:
    """An untrained policy whose raw actions span [-10, 10] (around the state, in delta mode):
    far outside SPEC's limits."""
    torch.manual_seed(0)
    ten = np.full(13, 10.0, np.float32)
    policy = DexGraspPolicy(tiny_config(action_mode=action_mode), Normalizer(-ten, ten, -ten, ten))
    randomize(policy)
    return policy


class _SlowPolicy(DexGraspPolicy):
    """Stands in for a large model on a slow machine: every chunk takes `delay_s` longer."""

    delay_s = 0.0

    def predict_chunk(self, batch, generator=None, precision="fp32"):  # type: ignore[no-untyped-def]
        time.sleep(self.delay_s)
        return super().predict_chunk(batch, generator, precision)


@pytest.mark.parametrize("synchronous", [True, False])
def test_act_never_returns_an_action_outside_the_limits(tiny_config, randomize, synchronous: bool) -> None:
    policy = _wide_policy(tiny_config, randomize)
    controller = PolicyController(policy, OracleTracker(), spec=SPEC, synchronous=synchronous)
    assert isinstance(controller, Controller)
    controller.reset(_observation(), TARGET_BOX)
    actions = np.stack([controller.act(_observation(i)) for i in range(40)])
    controller.close()
    assert actions.shape == (40, 13) and actions.dtype == np.float32
    assert np.all(actions >= SPEC.lower) and np.all(actions <= SPEC.upper)
    assert np.any(np.abs(actions) == 1.0)  # the policy did ask for more: clipping happened


class _PlanPolicy(DexGraspPolicy):
    """Plans action `tick + k` (every joint) for the k-th step of a chunk observed at `tick`,
    after `delay_s` of thinking, and notes the tick of every observation it predicts from."""

    delay_s = 0.0
    ticks: list[float]

    def predict_chunk(self, batch, generator=None, precision="fp32"):  # type: ignore[no-untyped-def]
        tick = float(batch["tick"][0])
        self.ticks.append(tick)
        time.sleep(self.delay_s)
        plan = tick + torch.arange(self.config.horizon, dtype=torch.float32)
        return plan[None, :, None].expand(1, -1, 13).clone()


def _paced(controller: PolicyController, ticks: int) -> np.ndarray:
    """Drive `controller` for `ticks` ticks at a wall-clock 20 Hz, as every loop does; the actions taken."""
    controller.reset(_observation(), TARGET_BOX)
    actions, pacer = [], Pacer(20.0)
    pacer.start()
    for i in range(ticks):
        pacer.wait()
        actions.append(controller.act(_observation(i)))
        pacer.tick_done()
    controller.close()
    return np.stack(actions)


def _planned_for_ticks(ticks: int) -> np.ndarray:
    """What `_PlanPolicy` plans for ticks 0..ticks-1: the tick number on every joint."""
    return np.repeat(np.arange(ticks, dtype=np.float32)[:, None], 13, 1)


@pytest.mark.parametrize("delay_s", [0.0, 0.08])
def test_a_20hz_loop_observes_every_execute_steps_and_takes_each_ticks_planned_action(
    tiny_config, delay_s: float
) -> None:
    # Tiny: H=8 executing 4, so a chunk's tail covers 4 ticks (200 ms) of inference: the 80 ms
    # chunk (2 ticks, +1 for jitter) fits with room for a loaded machine.
    policy = _PlanPolicy(tiny_config())
    policy.delay_s, policy.ticks = delay_s, []
    controller = PolicyController(policy, OracleTracker(), spec=WIDE_SPEC)
    actions = _paced(controller, 24)
    # As in training and in synchronous mode: one chunk per execute_steps ticks, observed on time,
    # however long inference takes within the tail (an 80 ms chunk arrives 1-2 ticks late).
    assert policy.ticks == [0.0, 4.0, 8.0, 12.0, 16.0, 20.0]
    assert controller.starved_ticks == 0
    # Tick t runs the action planned for tick t by the latest chunk that had arrived.
    np.testing.assert_array_equal(actions, _planned_for_ticks(24))


def test_without_a_tail_to_cover_inference_the_next_chunk_is_observed_early(tiny_config) -> None:
    # Executing all 8 of 8 actions leaves no tail: the controller observes ~3 ticks early instead.
    policy = _PlanPolicy(tiny_config(execute_steps=8))
    policy.delay_s, policy.ticks = 0.12, []
    controller = PolicyController(policy, OracleTracker(), spec=WIDE_SPEC)
    actions = _paced(controller, 24)
    assert controller.starved_ticks == 0
    assert all(0 < b - a < 8 for a, b in zip(policy.ticks, policy.ticks[1:], strict=False))
    np.testing.assert_array_equal(actions, _planned_for_ticks(24))


def test_a_20hz_loop_never_starves_when_inference_is_fast(tiny_config) -> None:
    torch.manual_seed(0)
    policy = DexGraspPolicy(tiny_config(horizon=16, execute_steps=12))
    controller = PolicyController(policy, OracleTracker(), spec=SPEC)
    _paced(controller, 30)
    assert controller.starved_ticks == 0
    assert controller.stats["infer"].count == math.ceil(30 / controller.execute_steps)
    assert controller.stats["track"].count == 30


def test_slow_inference_in_a_fast_loop_counts_starved_ticks(tiny_config) -> None:
    torch.manual_seed(0)
    policy = _SlowPolicy(tiny_config())
    policy.delay_s = 0.05
    controller = PolicyController(policy, OracleTracker(), spec=SPEC)
    controller.reset(_observation(), TARGET_BOX)
    for i in range(20):  # no sleep: ticks come far faster than chunks
        controller.act(_observation(i))
    controller.close()
    assert controller.starved_ticks > 0
    assert controller.stats["infer"].worst_s >= 0.05


def test_synchronous_mode_is_deterministic_and_runs_execute_steps_per_chunk(tiny_config, randomize) -> None:
    runs = []
    for _ in range(2):
        controller = PolicyController(
            _wide_policy(tiny_config, randomize), OracleTracker(), spec=SPEC, synchronous=True, seed=3
        )
        controller.reset(_observation(), TARGET_BOX)
        runs.append(np.stack([controller.act(_observation(i)) for i in range(10)]))
        assert controller.stats["infer"].count == math.ceil(10 / controller.execute_steps)
        assert controller.starved_ticks == 0
        controller.close()
    np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize(("action_mode", "bound"), [("absolute", 10.0), ("delta", 20.0)])
def test_from_checkpoint_controls_with_the_saved_policy(
    tmp_path: Path, tiny_config, randomize, action_mode: str, bound: float
) -> None:
    policy = _wide_policy(tiny_config, randomize, action_mode)
    save_checkpoint(tmp_path / "ckpt", policy)
    controller = PolicyController.from_checkpoint(tmp_path / "ckpt", OracleTracker(), synchronous=True)
    # Without a RobotSpec the limits are what the policy can produce: the normaliser's action
    # range, around the state range in delta mode (states in [-10, 10], deltas in [-10, 10]).
    np.testing.assert_array_equal(controller.lower, np.full(13, -bound, np.float32))
    np.testing.assert_array_equal(controller.upper, np.full(13, bound, np.float32))
    controller.reset(_observation(), TARGET_BOX)
    action = controller.act(_observation(1))
    assert action.shape == (13,) and np.all(np.abs(action) <= bound)
    controller.close()
    controller.close()  # safe twice


class _RecordingPolicy(DexGraspPolicy):
    """Notes the tick of every observation it predicts from."""

    ticks: list[float]

    def predict_chunk(self, batch, generator=None, precision="fp32"):  # type: ignore[no-untyped-def]
        self.ticks.append(float(batch["tick"][0]))
        return super().predict_chunk(batch, generator, precision)


def test_the_policy_sees_ticks_since_the_attempt_started(tiny_config) -> None:
    policy = _RecordingPolicy(tiny_config(time_input=True))
    policy.ticks = []
    controller = PolicyController(policy, OracleTracker(), spec=SPEC, synchronous=True)
    for _ in range(2):  # a second attempt counts from 0 again
        controller.reset(_observation(), TARGET_BOX)
        for i in range(9):
            controller.act(_observation(i))
    controller.close()
    assert controller.execute_steps == 4
    assert policy.ticks == [0.0, 4.0, 8.0] * 2


def test_nonfinite_policy_output_holds_the_measured_joints(tiny_config) -> None:
    policy = DexGraspPolicy(tiny_config())
    with torch.no_grad():
        policy.dit.action_out.bias.fill_(float("nan"))
    controller = PolicyController(policy, OracleTracker(), spec=SPEC, synchronous=True)
    controller.reset(_observation(), TARGET_BOX)
    action = controller.act(_observation(1))
    assert np.array_equal(action, np.zeros(13, np.float32)) and controller.nonfinite_actions == 1


def test_act_before_reset_is_an_error(tiny_config) -> None:
    controller = PolicyController(DexGraspPolicy(tiny_config()), OracleTracker())
    with pytest.raises(ControllerStateError, match="before reset"):
        controller.act(_observation())
