"""The embodiment comes from the robot: a robot of another size trains and runs its own policy.

A test-only robot with 9 joints (a 6-joint arm + a 3-finger hand) is registered like any plug-in. Demos
recorded on it make a 9-D store; `dexagent train` sizes a policy from that store and records the
size in the checkpoint; `dexagent run` drives the robot with it. The shipped 13-D checkpoint (7 arm
+ 6 hand joints) is refused on that robot with both shapes named, and training refuses a config
or a checkpoint made for another size.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

import dexagent.cli.run
import dexagent.cli.train  # noqa: F401  (loaded before the toys register: their help stays clean)
from dexagent.agent.planner import PLANNERS
from dexagent.cli.app import app
from dexagent.controller.checkpoint import read_checkpoint
from dexagent.controller.factory import default_checkpoint
from dexagent.controller.perception import TRACKERS
from dexagent.hardware import Box, Observation, RobotSpec
from dexagent.hardware.registry import ROBOTS
from dexagent.hardware.robot_config import RobotConfig
from dexagent.skills.planning import AttemptRecord, Instruction, Plan, Verdict

runner = CliRunner()
EVENTS: list[tuple[str, Any]] = []
JOINTS = tuple(f"joint{i}" for i in range(1, 7)) + ("thumb", "index", "middle")
SIZE = 32


class GripperRobotConfig(RobotConfig):
    type: str = "gripper9"


class GripperRobot:
    """A 6-joint arm with a three-finger hand that stands still and sees a grey image."""

    def __init__(self, config: GripperRobotConfig) -> None:
        lower = np.array([-2.0] * 6 + [0.0] * 3, np.float32)
        upper = np.array([2.0] * 6 + [1.0] * 3, np.float32)
        home = np.array([0.0] * 6 + [1.0] * 3, np.float32)
        self.spec = RobotSpec(JOINTS, lower, upper, home, arm_joints=6)
        self.state = self.spec.home.copy()

    def observe(self) -> Observation:
        image = np.full((SIZE, SIZE, 3), 90, np.uint8)
        return Observation(image, image.copy(), self.state.copy(), 0.0)

    def act(self, action: np.ndarray) -> None:
        EVENTS.append(("acted", np.shape(action)))
        self.state = np.asarray(action, np.float32)

    def home(self) -> None:
        self.state = self.spec.home.copy()

    def emergency_stop(self, reason: str) -> None:
        EVENTS.append(("stopped", reason))

    def close(self) -> None:
        EVENTS.append(("closed", None))

    def __enter__(self) -> GripperRobot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NoOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CupPlanner:
    """Proposes one grasp of a cup at a fixed box, then sees the table clear."""

    def propose(self, prompt: str, observation: Observation, history: Sequence[AttemptRecord]) -> Plan:
        if not history:
            return Plan(instructions=(Instruction(target="cup", text="grasp the cup"),))
        return Plan(instructions=(), reasoning="done")

    def ground(self, instruction: Instruction, observation: Observation) -> Box:
        return Box(8, 8, 20, 20)

    def verify_grasp(self, instruction: Instruction, observation: Observation) -> Verdict:
        return Verdict(ok=False, reasoning="a random policy holds nothing")

    def is_complete(self, prompt: str, first_observation: Observation, observation: Observation) -> Verdict:
        return Verdict(ok=True, reasoning="done")


class BoxTracker:
    """The planner's box as the target mask, every frame."""

    def start(self, observation: Observation, target_box: Box) -> np.ndarray:
        self.mask = np.zeros((SIZE, SIZE), bool)
        x1, y1, x2, y2 = (int(v) for v in target_box.as_tuple())
        self.mask[y1:y2, x1:x2] = True
        return self.mask.copy()

    def step(self, observation: Observation) -> np.ndarray:
        return self.mask.copy()


@pytest.fixture
def gripper_robot() -> Iterator[None]:
    EVENTS.clear()
    ROBOTS.register("gripper9", "a 9-joint test robot", config=GripperRobotConfig, factory=GripperRobot)
    PLANNERS.register("cup-planner", "a test planner", config=NoOptions, factory=lambda *_: CupPlanner())
    TRACKERS.register("box-tracker", "a test tracker", config=NoOptions, factory=lambda _: BoxTracker())
    try:
        yield
    finally:
        ROBOTS.unregister("gripper9")
        PLANNERS.unregister("cup-planner")
        TRACKERS.unregister("box-tracker")


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output


def _run_on_gripper(tmp_path: Path, controller: str) -> tuple[int, str]:
    config = tmp_path / "gripper.yaml"
    config.write_text("type: gripper9\n")
    tree = tmp_path / "one_grasp.yaml"
    tree.write_text(
        "tree:\n  sequence:\n    - plan: {prompt: '{prompt}', allow_empty: false}\n"
        "    - grasp: {target: '{instruction}', budget_s: 0.5}\n"
    )
    return _invoke(
        "run", "clear the table", "--robot", "gripper9", "--robot-config", str(config), "--tree", str(tree),
        "--planner", "cup-planner", "--tracker", "box-tracker", "--controller", controller,
    )  # fmt: skip


def _preset(tmp_path: Path, tiny_config: Callable[..., Any]) -> Path:
    """A tiny preset that, like the named ones, records no joint count: the data sizes it."""
    path = tmp_path / "tiny.json"
    path.write_text(tiny_config(image_size=SIZE, state_dim=None, action_dim=None).to_json())
    return path


def _train(data: Path, out: Path, config: Path, *extra: str) -> tuple[int, str]:
    return _invoke(
        "train", "--data", str(data), "--out", str(out), "--config", str(config), "--steps", "2",
        "--batch", "4", "--warmup", "1", "--val-every", "2", "--threads", "1", *extra,
    )  # fmt: skip


def test_a_policy_trained_on_a_9_joint_robots_demos_runs_on_that_robot(
    gripper_robot: None,
    tmp_path: Path,
    tiny_config: Callable[..., Any],
    make_smooth_store: Callable[..., Any],
) -> None:
    store = make_smooth_store(lengths=(12, 12, 12, 12), size=SIZE, joints=len(JOINTS))
    assert store.joints == 9
    out = tmp_path / "policy"
    code, output = _train(store.path, out, _preset(tmp_path, tiny_config))
    assert code == 0, output
    recorded = json.loads((out / "config.json").read_text())
    assert (recorded["state_dim"], recorded["action_dim"]) == (9, 9)  # from the store, kept in the checkpoint
    code, output = _run_on_gripper(tmp_path, str(out))
    assert code == 1 and "timeout after 0.5 s" in output, output  # two steps of training grasp nothing
    acted = {shape for name, shape in EVENTS if name == "acted"}
    assert acted == {(9,)}, EVENTS  # the learned controller drove all nine joints, tick after tick


def test_the_shipped_13_joint_checkpoint_is_refused_on_the_9_joint_robot_by_name(
    gripper_robot: None, tmp_path: Path
) -> None:
    code, output = _run_on_gripper(tmp_path, "default")
    flat = " ".join(output.split())
    assert code == 2, output
    assert f"checkpoint {default_checkpoint('grasp')} acts in 13 dimensions" in flat, output
    assert f"robot GripperRobot has 9 joints ({', '.join(JOINTS)})" in flat, output
    assert not [name for name, _ in EVENTS if name == "acted"] and ("closed", None) in EVENTS


def test_a_checkpoint_that_predates_the_recorded_size_takes_it_from_its_normaliser(tmp_path: Path) -> None:
    """Checkpoints saved before configs recorded the data's sizes (the ablation folders) still load."""
    folder = tmp_path / "old"
    shutil.copytree(default_checkpoint("grasp"), folder)
    config = json.loads((folder / "config.json").read_text())
    for recorded in ("state_dim", "action_dim", "camera_size", "wrist_camera_size"):
        config.pop(recorded, None)
    (folder / "config.json").write_text(json.dumps(config))
    checkpoint = read_checkpoint(folder)
    assert (
        checkpoint.config.dims
        == (13, 13)
        == (checkpoint.normalizer.state_dim, checkpoint.normalizer.action_dim)
    )


def test_training_refuses_a_store_of_another_robot_naming_both_sizes(
    tmp_path: Path, tiny_config: Callable[..., Any], make_smooth_store: Callable[..., Any]
) -> None:
    store = make_smooth_store(lengths=(12, 12, 12), size=SIZE, joints=9)
    preset = _preset(tmp_path, tiny_config)
    code, output = _train(
        store.path, tmp_path / "a", preset, "--set", "state_dim=13", "--set", "action_dim=13"
    )
    flat = " ".join(output.split())
    assert code == 2 and "holds 9-D actions and 9-D states" in flat and "acts in 13 dimensions" in flat, (
        output
    )
    code, output = _train(store.path, tmp_path / "b", preset, "--init-from", str(default_checkpoint("grasp")))
    flat = " ".join(output.split())
    assert code == 2 and "it acts in 13 dimensions from 13-D states" in flat, output
    assert "the data's robot has 9-D actions and 9-D states" in flat, output
