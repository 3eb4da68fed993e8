"""The world of a run: the camera size from the checkpoint, read once; a controller built once."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering; must precede MuJoCo's GL setup

from dexagent.agent.runner import RunConfig  # noqa: E402
from dexagent.agent.world import ControllerChoices, WorldError, build_sim_world, camera_size  # noqa: E402
from dexagent.controller import checkpoint, factory  # noqa: E402
from dexagent.controller.checkpoint import save_checkpoint  # noqa: E402
from dexagent.controller.normalizer import Normalizer  # noqa: E402
from dexagent.controller.policy import DexGraspPolicy  # noqa: E402
from dexagent.controller.runtime import PolicyController  # noqa: E402
from dexagent.hardware.sim.config import SimRobotConfig  # noqa: E402
from dexagent.hardware.sim.robot import sim_robot_spec  # noqa: E402
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE  # noqa: E402
from dexagent.skills.workers import DaemonExecutor  # noqa: E402
from tests.agent.test_run_loop import RECOVERY_TREE, SEED  # noqa: E402


def tiny_checkpoint(folder: Path, tiny_config: Callable[..., object], camera_size: int) -> Path:
    """A tiny random-weight checkpoint whose demos were rendered at `camera_size` (policy input 32)."""
    spec = sim_robot_spec()
    config = tiny_config(image_size=32, camera_size=camera_size)
    policy = DexGraspPolicy(config, Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False)
    return save_checkpoint(folder, policy)


def test_the_camera_size_is_the_asked_one_else_the_checkpoints_else_the_default(
    tmp_path: Path, tiny_config: Callable[..., object]
) -> None:
    folder = tiny_checkpoint(tmp_path / "ckpt", tiny_config, camera_size=48)
    learned = ControllerChoices(str(folder), ("grasp",))
    assert camera_size(learned) == 48  # not the policy's input size (32), not the default
    assert camera_size(learned, 64) == 64
    assert camera_size(ControllerChoices("scripted", ("grasp",))) == DEFAULT_IMAGE_SIZE
    # A config that names no size renders at the controller's; one that names a size wins.
    with build_sim_world(SimRobotConfig(seed=SEED, objects=1), learned) as world:
        assert world.image_size == 48
        assert world.robot.observe().head_rgb.shape == (48, 48, 3)
    with build_sim_world(SimRobotConfig(seed=SEED, objects=1, image_size=64), learned) as world:
        assert world.image_size == 64


def test_default_controllers_trained_at_different_sizes_are_refused_by_name(
    tmp_path: Path, tiny_config: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_checkpoint(tmp_path / "grasp", tiny_config, camera_size=48)
    tiny_checkpoint(tmp_path / "push_then_grasp", tiny_config, camera_size=64)
    monkeypatch.setattr(factory, "CHECKPOINTS_DIR", tmp_path)  # an install shipping both skills
    choices = ControllerChoices("default", ("grasp",))
    assert camera_size(choices) == 48
    choices["push_then_grasp"]  # resolved later, as when a tree first asks for it
    with pytest.raises(WorldError, match="grasp 48 px, push_then_grasp 64 px"):
        camera_size(choices)


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
