"""`resolve_controller`: scripted, default and checkpoint folders; a clear error when one cannot load;
a checkpoint read once, then built from what was read."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dexagent.controller import checkpoint, factory
from dexagent.controller.checkpoint import save_checkpoint
from dexagent.controller.data.rollout import run_attempt
from dexagent.controller.factory import ControllerNotFoundError, resolve_controller
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.runtime import PolicyController
from dexagent.hardware import SafeRobot
from dexagent.hardware.sim.robot import SimRobot, sim_robot_spec
from dexagent.hardware.sim.scenes import sample_scene


@pytest.fixture
def sim() -> SimRobot:
    robot = SimRobot(sample_scene(2, "seen", 2), image_size=32)
    yield robot
    robot.close()


def test_scripted_is_the_sims_expert_and_refuses_other_robots(sim: SimRobot) -> None:
    from dexagent.controller.scripted import ScriptedController

    assert isinstance(resolve_controller("scripted", "grasp").build(sim), ScriptedController)

    class NotASim:
        spec = sim_robot_spec()

    with pytest.raises(ControllerNotFoundError, match="runs only on the sim robot"):
        resolve_controller("scripted", "grasp").build(NotASim())  # type: ignore[arg-type]


def test_bad_names_and_skills_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ControllerNotFoundError, match="unknown skill 'juggle'"):
        resolve_controller("scripted", "juggle")
    with pytest.raises(ControllerNotFoundError, match="neither 'scripted', 'default' nor"):
        resolve_controller(str(tmp_path / "missing"), "grasp")
    with pytest.raises(ControllerNotFoundError, match="is not a usable checkpoint"):
        resolve_controller(str(tmp_path), "grasp")  # a folder without config.json
    monkeypatch.setattr(factory, "CHECKPOINTS_DIR", tmp_path / "none")  # an install without checkpoints
    with pytest.raises(ControllerNotFoundError, match="use --controller scripted"):
        resolve_controller("default", "push_then_grasp")


@pytest.mark.parametrize("realtime", [False, True])
def test_a_checkpoint_folder_loads_the_learned_controller_and_drives_the_sim(
    tmp_path: Path, sim: SimRobot, tiny_config: Callable[..., object], realtime: bool
) -> None:
    config = tiny_config(image_size=32)
    spec = sim.spec
    policy = DexGraspPolicy(config, Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False)
    folder = save_checkpoint(tmp_path / "ckpt", policy)
    choice = resolve_controller(str(folder), "grasp")
    # In sim a learned controller predicts in the tick unless asked to infer in the background
    # (`dexagent eval --realtime`), where the attempt ticks at a wall-clock 20 Hz as on the robot.
    controller = choice.build(sim, seed=1, synchronous=False if realtime else None)
    assert isinstance(controller, PolicyController) and controller.synchronous is not realtime
    robot = SafeRobot(sim)
    robot.home()
    actions: list[np.ndarray] = []
    started = time.perf_counter()
    try:
        outcome = run_attempt(
            sim, robot, controller, 0, seconds=0.5, on_tick=lambda o, a: actions.append(a), realtime=realtime
        )
    finally:
        controller.close()
    if realtime:
        assert time.perf_counter() - started >= 0.5 - 1 / 20  # 10 ticks paced at 20 Hz
    assert not outcome.success and outcome.steps == 10 and len(actions) == 10
    assert outcome.cadence is not None and outcome.cadence.ticks == 10 and outcome.cadence.paced is realtime
    if realtime:
        assert outcome.cadence.achieved_hz <= 20.0 + 1e-9  # paced: never faster than the control rate
    assert all(np.all(a >= spec.lower) and np.all(a <= spec.upper) for a in actions)


def test_a_checkpoint_is_read_once_and_its_controller_built_from_what_was_read(
    tmp_path: Path, sim: SimRobot, tiny_config: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tiny_config(image_size=32, camera_size=48)
    spec = sim.spec
    policy = DexGraspPolicy(config, Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False)
    folder = save_checkpoint(tmp_path / "ckpt", policy)
    reads: list[str] = []
    load_file = checkpoint.load_file
    monkeypatch.setattr(checkpoint, "load_file", lambda path: reads.append(path) or load_file(path))

    choice = resolve_controller(str(folder), "grasp")  # read and verified here
    assert reads == [str(folder / "model.safetensors")]
    # What a run asks before it builds anything comes from what was read.
    assert choice.render_sizes == (48, 48)
    assert choice.precision_note("fp32") == "inference precision fp32 (asked for)"
    controller = choice.build(sim)
    assert isinstance(controller, PolicyController)
    assert reads == [str(folder / "model.safetensors")]  # built without reading the files again
    for name, tensor in policy.state_dict().items():
        assert controller.policy.state_dict()[name].equal(tensor), name
