"""The world of a run: the camera sizes from the checkpoint, read once; a controller built once."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must precede MuJoCo's GL setup

from dexagent.agent.runner import RunConfig  # noqa: E402
from dexagent.agent.world import ControllerChoices, WorldError, build_sim_world, camera_sizes  # noqa: E402
from dexagent.controller import checkpoint, factory  # noqa: E402
from dexagent.controller.checkpoint import save_checkpoint  # noqa: E402
from dexagent.controller.config import EncoderConfig  # noqa: E402
from dexagent.controller.normalizer import Normalizer  # noqa: E402
from dexagent.controller.policy import DexGraspPolicy  # noqa: E402
from dexagent.controller.runtime import PolicyController  # noqa: E402
from dexagent.hardware.sim.config import SimRobotConfig  # noqa: E402
from dexagent.hardware.sim.robot import sim_robot_spec  # noqa: E402
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE, CameraSizes  # noqa: E402
from dexagent.skills.workers import DaemonExecutor  # noqa: E402
from tests.agent.test_run_loop import RECOVERY_TREE, SEED  # noqa: E402


def tiny_checkpoint(
    folder: Path, tiny_config: Callable[..., object], camera_size: int | None, **sizes: object
) -> Path:
    """A tiny random-weight checkpoint whose demos were rendered at `camera_size` (policy input 32,
    unless `sizes` say otherwise)."""
    spec = sim_robot_spec()
    config = tiny_config(**{"image_size": 32, "camera_size": camera_size, **sizes})
    policy = DexGraspPolicy(config, Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False)
    return save_checkpoint(folder, policy)


def test_the_camera_size_is_the_asked_one_else_the_checkpoints_else_the_default(
    tmp_path: Path, tiny_config: Callable[..., object]
) -> None:
    folder = tiny_checkpoint(tmp_path / "ckpt", tiny_config, camera_size=48)
    learned = ControllerChoices(str(folder), ("grasp",))
    assert camera_sizes(learned) == (48, 48)  # not the policy's input size (32), not the default
    assert camera_sizes(learned, 64) == (64, 64)
    assert camera_sizes(learned, None, 32) == (48, 32) and camera_sizes(learned, 64, 32) == (64, 32)
    assert camera_sizes(ControllerChoices("scripted", ("grasp",))) == (DEFAULT_IMAGE_SIZE,) * 2
    # A config that names no size renders at the controller's; one that names a size wins.
    with build_sim_world(SimRobotConfig(seed=SEED, objects=1), learned) as world:
        assert world.camera_sizes == (48, 48)
        assert world.robot.observe().head_rgb.shape == (48, 48, 3)
    with build_sim_world(SimRobotConfig(seed=SEED, objects=1, image_size=64), learned) as world:
        assert world.camera_sizes == (64, 64)


def test_a_checkpoint_whose_cameras_have_their_own_sizes_gets_both_and_acts(
    tmp_path: Path, tiny_config: Callable[..., object]
) -> None:
    # The head encoder reads 224 px (as a frozen DINOv2 would), the wrist CNN 96 px.
    head = EncoderConfig(kind="cnn", width=16, patch_size=4, channels=(8, 16), pool=8)
    folder = tiny_checkpoint(
        tmp_path / "ckpt", tiny_config, None, image_size=224, wrist_image_size=96, head_encoder=head
    )
    learned = ControllerChoices(str(folder), ("grasp",))
    assert camera_sizes(learned) == CameraSizes(224, 96)
    with build_sim_world(SimRobotConfig(seed=SEED, objects=1), learned) as world:
        assert world.camera_sizes == (224, 96)
        observation = world.robot.observe()
        assert observation.head_rgb.shape == (224, 224, 3) and observation.wrist_rgb.shape == (96, 96, 3)
        box = world.robot.object_box(0)  # type: ignore[attr-defined]
        controller = world.controllers("grasp")
        controller.reset(observation, box)
        action = controller.act(observation)  # each camera into its own encoder at its own size
        assert action.shape == (13,) and np.isfinite(action).all()
    # Asked for, a size renders both cameras (as before cameras had their own); --wrist-size the wrist.
    with build_sim_world(SimRobotConfig(seed=SEED, objects=1, image_size=112), learned) as world:
        assert world.camera_sizes == (112, 112)
    with build_sim_world(SimRobotConfig(seed=SEED, objects=1, wrist_size=64), learned) as world:
        assert world.camera_sizes == (224, 64)
        assert world.robot.observe().wrist_rgb.shape == (64, 64, 3)


def test_default_controllers_trained_at_different_sizes_are_refused_by_name(
    tmp_path: Path, tiny_config: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_checkpoint(tmp_path / "grasp", tiny_config, camera_size=48)
    tiny_checkpoint(tmp_path / "push_then_grasp", tiny_config, camera_size=64)
    monkeypatch.setattr(factory, "CHECKPOINTS_DIR", tmp_path)  # an install shipping both skills
    choices = ControllerChoices("default", ("grasp",))
    assert camera_sizes(choices) == (48, 48)
    choices["push_then_grasp"]  # resolved later, as when a tree first asks for it
    with pytest.raises(WorldError, match="grasp 48 px, push_then_grasp 64 px"):
        camera_sizes(choices)


def test_a_run_reads_its_checkpoint_once_and_builds_its_controller_once_for_every_attempt(
    tmp_path: Path, tiny_config: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tiny_checkpoint(tmp_path / "ckpt", tiny_config, camera_size=48)
    reads: list[str] = []
    load_file = checkpoint.load_file
    monkeypatch.setattr(checkpoint, "load_file", lambda path: reads.append(path) or load_file(path))
    built: list[PolicyController] = []
    init = PolicyController.__init__

    def counting_init(self: PolicyController, *args: object, **kwargs: object) -> None:
        built.append(self)
        init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PolicyController, "__init__", counting_init)
    tree = tmp_path / "once_more.yaml"
    tree.write_text(RECOVERY_TREE)  # a 1 s grasp, a reset, a second 1 s grasp

    controllers = ControllerChoices(str(folder), ("grasp",))  # what the CLI checks before the scene
    with build_sim_world(SimRobotConfig(seed=SEED, objects=2), controllers) as world:
        target = next(o for o in world.robot.objects if not o.flat)  # type: ignore[attr-defined]
        prompt = "grasp the " + target.name.replace("_", " ")
        result = world.agent_run(RunConfig(prompt=prompt, tree=tree, realtime=False)).run()
    assert result.attempts == 2, result.reason  # random weights: both attempts time out
    assert reads == [str(folder / "model.safetensors")]
    assert len(built) == 1 and built[0]._attempt == 2  # one controller, reset for each attempt


def test_a_run_uses_the_executor_it_was_built_with(tmp_path: Path) -> None:
    executor = DaemonExecutor(max_workers=1)
    with build_sim_world(SimRobotConfig(seed=SEED, objects=1), ControllerChoices("scripted")) as world:
        run = world.agent_run(RunConfig(prompt="grasp the cup", realtime=False), executor=executor)
        assert run.context.executor is executor
    executor.shutdown()
