"""On-policy collection (DAgger): a learned policy drives, the scripted expert labels every tick."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dexagent.controller.checkpoint import save_checkpoint
from dexagent.controller.data.collect import CollectError, CollectJob, record_demo
from dexagent.controller.data.on_policy import SEGMENT_TICKS, OnPolicyController, hand_reopens
from dexagent.controller.data.store import DemoStore
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.runtime import PolicyController
from dexagent.controller.scripted import ScriptedController
from dexagent.controller.trackers import OracleTracker
from dexagent.hardware import SafeRobot
from dexagent.hardware.sim.robot import SimRobot, sim_robot_spec
from dexagent.hardware.sim.scenes import sample_scene

torch.set_num_threads(1)
HORIZON = 8  # label chunk ticks in these tests


def _tiny_policy(tiny_config) -> DexGraspPolicy:  # type: ignore[no-untyped-def]
    """An untrained 32 px policy whose actions span the sim robot's joint limits."""
    torch.manual_seed(0)
    spec = sim_robot_spec()
    return DexGraspPolicy(tiny_config(), Normalizer.from_limits(spec.lower, spec.upper))


def _drive(beta: float, tiny_config, ticks: int = 3 * SEGMENT_TICKS, horizon: int = HORIZON):  # type: ignore[no-untyped-def]
    """(executed actions, labels, the controller, the expert's re-plans) over `ticks` ticks of one scene."""
    with SimRobot(sample_scene(5, "seen", 1), image_size=32) as sim:
        robot = SafeRobot(sim)
        robot.home()
        student = PolicyController(
            _tiny_policy(tiny_config), OracleTracker(), spec=sim.spec, synchronous=True
        )
        controller = OnPolicyController(
            student, ScriptedController(sim, "grasp"), beta, seed=3, horizon=horizon
        )
        observation = robot.observe()
        box = sim.object_box(0)
        assert box is not None
        controller.reset(observation, box)
        executed, labels, chunks = [], [], []
        for _ in range(ticks):
            action = controller.act(observation)
            executed.append(action)
            assert controller.label is not None and controller.label_chunk is not None
            labels.append(controller.label)
            chunks.append(controller.label_chunk)
            robot.act(action)
            observation = robot.observe()
        assert controller.expert.expert is not None
        replans = controller.expert.expert.replans
        controller.close()
        return np.array(executed), np.array(labels), np.array(chunks), controller, replans


def test_with_beta_one_the_expert_drives_every_tick_and_labels_what_ran(tiny_config) -> None:  # type: ignore[no-untyped-def]
    executed, labels, chunks, controller, replans = _drive(1.0, tiny_config)
    np.testing.assert_array_equal(executed, labels)
    assert controller.expert_ticks == controller.ticks == len(executed)
    assert replans == 0  # it drove itself: its plan holds
    # Each tick's label chunk is what the expert then did: previewing left its plan as it was.
    assert chunks.shape == (len(executed), HORIZON, executed.shape[1])
    for t in range(len(executed) - HORIZON):
        np.testing.assert_allclose(chunks[t], executed[t : t + HORIZON], atol=1e-6)


def test_with_beta_zero_the_student_drives_and_the_expert_still_labels(tiny_config) -> None:  # type: ignore[no-untyped-def]
    executed, labels, chunks, controller, replans = _drive(0.0, tiny_config)
    assert controller.expert_ticks == 0
    # The untrained student goes its own way; the labels are the expert's way from there.
    assert np.abs(executed - labels).max() > 0.05
    assert replans > 0
    np.testing.assert_array_equal(chunks[:, 0], labels)
    # The chunk is the expert's continuation from each state, not the next ticks' labels (each the
    # first step of another re-plan): its arm moves further over the chunk than one step.
    arm = slice(0, 7)
    step = np.abs(chunks[:, 1, arm] - chunks[:, 0, arm]).max(axis=1)
    span = np.abs(chunks[:, -1, arm] - chunks[:, 0, arm]).max(axis=1)
    moving = step > 1e-3
    assert moving.sum() > len(step) // 2 and np.median(span[moving] / step[moving]) > 3


def test_a_one_tick_horizon_labels_each_tick_with_its_label_alone(tiny_config) -> None:  # type: ignore[no-untyped-def]
    executed, labels, chunks, _, _ = _drive(0.0, tiny_config, ticks=SEGMENT_TICKS, horizon=1)
    assert chunks.shape == (len(executed), 1, executed.shape[1])
    np.testing.assert_array_equal(chunks[:, 0], labels)


def test_on_policy_jobs_are_checked() -> None:
    with pytest.raises(CollectError, match="beta"):
        CollectJob(beta=0.5)  # no policy to share the driving with
    with pytest.raises(CollectError, match="DART"):
        CollectJob(policy="default", beta=0.0, noise=0.05)
    with pytest.raises(CollectError, match="beta"):
        CollectJob(policy="default", beta=1.5)


@pytest.mark.slow
def test_a_failed_rollout_is_kept_with_expert_labels_and_its_provenance(tiny_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    checkpoint = tmp_path / "student"
    save_checkpoint(checkpoint, _tiny_policy(tiny_config))
    job = CollectJob(image_size=32, n_objects=1, seed=4, policy=str(checkpoint), beta=0.0, round=2)
    demo = record_demo(job, 0)
    assert not demo.success and demo.reason  # an untrained policy does not grasp
    assert demo.frames is not None and demo.metadata is not None  # but the rollout is data
    assert demo.expert_ticks == 0
    with DemoStore.create_or_append(
        tmp_path / "store.zarr", image_size=32, control_hz=20.0, joints=13
    ) as store:
        store.append_episode(demo.frames, demo.metadata)
    stored = DemoStore.open(tmp_path / "store.zarr").episode_metadata(0)
    assert stored.round == 2 and stored.beta == 0.0 and stored.outcome == demo.reason
    assert stored.policy.startswith(str(checkpoint)) and "@sha256:" in stored.policy


def test_hand_reopens_counts_each_opening_after_a_close() -> None:
    open_hand, closed_hand = np.ones(13), np.concatenate([np.zeros(7), [1.0], np.zeros(5)])
    half = (open_hand + closed_hand) / 2  # 50% closed: neither closed nor opened again
    sequence = [open_hand, closed_hand, half, open_hand, closed_hand, closed_hand, open_hand, half]
    assert hand_reopens(np.array(sequence)) == 2
    assert hand_reopens(np.array([open_hand, closed_hand, half])) == 0
