"""Adding a robot type, a mask tracker, a planner backend or an encoder is its module plus one registration.

Each kind exists only in this test, is registered in its registry and nowhere else, and the CLI
then runs it as itself: `dexagent run --robot toy` builds the toy robot from its config file (not
the sim), asks the toy planner (not openai), and the learned controller of a grasp on it follows
the target with the toy tracker; `dexagent controller info` builds a policy whose head encoder is
the toy one; `collect` refuses the toy robot by name; `dexagent plugins` lists each with its
options. Every command's help lists what was registered before the CLI loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from typer.testing import CliRunner

import dexagent.cli.collect
import dexagent.cli.controller
import dexagent.cli.doctor
import dexagent.cli.run  # noqa: F401  (these four load before the toys register: see below)
from dexagent.agent.planner import PLANNERS
from dexagent.cli.app import app
from dexagent.controller.config import ENCODERS, EncoderConfig, get_config
from dexagent.controller.perception import TRACKERS
from dexagent.hardware import Box, Observation, RobotSpec
from dexagent.hardware.registry import ROBOTS
from dexagent.hardware.robot_config import RobotConfig
from dexagent.skills.planning import AttemptRecord, Instruction, Plan, Verdict

runner = CliRunner()
EVENTS: list[tuple[str, Any]] = []  # what the toy plug-ins were asked to do, in order


class ToyRobotConfig(RobotConfig):
    type: str = "toy"
    tint: int = Field(0, ge=0, le=255, description="the grey level of both cameras' images")


class ToyRobot:
    """A robot that stands still and sees a grey image."""

    def __init__(self, config: ToyRobotConfig) -> None:
        lower = np.full(13, -1.0, dtype=np.float32)
        names = tuple(f"joint{i}" for i in range(13))
        self.spec = RobotSpec(names, lower, -lower, np.zeros(13, np.float32), control_hz=50.0)
        self.tint = config.tint
        self.state = np.zeros(13, np.float32)
        EVENTS.append(("robot built", config.tint))

    def observe(self) -> Observation:
        image = np.full((32, 32, 3), self.tint, np.uint8)
        return Observation(image, image.copy(), self.state.copy(), 0.0)

    def act(self, action: np.ndarray) -> None:
        self.state = np.asarray(action, np.float32)

    def home(self) -> None:
        EVENTS.append(("robot homed", None))

    def emergency_stop(self, reason: str) -> None:  # a robot outside the sim must have one
        EVENTS.append(("robot stopped", reason))

    def close(self) -> None:
        EVENTS.append(("robot closed", None))

    def __enter__(self) -> ToyRobot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ToyPlanner:
    """Sees that the table is already clear, or (mood "keen") a cup to grasp at a fixed box."""

    def __init__(self, mood: str) -> None:
        self.mood = mood

    def propose(self, prompt: str, observation: Observation, history: Sequence[AttemptRecord]) -> Plan:
        EVENTS.append(("planner proposed", int(observation.head_rgb[0, 0, 0])))
        if self.mood == "keen" and not history:
            return Plan(instructions=(Instruction(target="cup", text="grasp the cup"),))
        return Plan(instructions=(), reasoning="the toy table is empty")

    def ground(self, instruction: Instruction, observation: Observation) -> Box:
        EVENTS.append(("planner grounded", instruction.target))
        return Box(8, 8, 20, 20)

    def verify_grasp(self, instruction: Instruction, observation: Observation) -> Verdict:
        raise AssertionError("nothing to verify")

    def is_complete(self, prompt: str, first_observation: Observation, observation: Observation) -> Verdict:
        EVENTS.append(("planner checked", prompt))
        return Verdict(ok=True, reasoning="the toy table is empty")


class ToyPlannerOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mood: str = Field("calm", description="how the toy planner feels")


def _build_planner(options: dict[str, Any], scene: Any, check: bool) -> ToyPlanner:
    validated = PLANNERS.validate("toy-planner", options)
    EVENTS.append(("planner built", validated.mood))
    return ToyPlanner(validated.mood)


class ToyTrackerOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    depth: int = Field(1, ge=1, description="how hard the toy tracker looks")


class ToyTracker:
    """The box itself as the mask, every frame."""

    def __init__(self) -> None:
        self.mask = np.zeros((32, 32), bool)

    def start(self, observation: Observation, target_box: Box) -> np.ndarray:
        EVENTS.append(("tracker started", target_box.as_tuple()))
        x1, y1, x2, y2 = (int(v) for v in target_box.as_tuple())
        self.mask[y1:y2, x1:x2] = True
        return self.mask.copy()

    def step(self, observation: Observation) -> np.ndarray:
        return self.mask.copy()


def _build_tracker(options: ToyTrackerOptions) -> ToyTracker:
    EVENTS.append(("tracker built", options.depth))
    return ToyTracker()


class ToyEncoder(nn.Module):
    """One linear embedding per patch: raw pixels, no learned features."""

    def __init__(self, config: EncoderConfig, image_size: int) -> None:
        super().__init__()
        side = config.patch_size * config.pool
        self.embed = nn.Conv2d(3, config.width, side, stride=side, bias=False)


def _build_encoder(config: EncoderConfig, image_size: int, load_pretrained: bool) -> nn.Module:
    EVENTS.append(("encoder built", image_size))
    return ToyEncoder(config, image_size)


# The command modules above load before the toys register: help texts are written when a command's
# module loads, and the toys must not stay in the help other tests read.
@pytest.fixture
def toys() -> Iterator[None]:
    EVENTS.clear()
    ROBOTS.register("toy", "a test robot that sees grey", config=ToyRobotConfig, factory=ToyRobot)
    TRACKERS.register("toy-tracker", "a test tracker", config=ToyTrackerOptions, factory=_build_tracker)
    PLANNERS.register("toy-planner", "a test planner", config=ToyPlannerOptions, factory=_build_planner)
    ENCODERS.register("toy-encoder", "a test encoder", config=EncoderConfig, factory=_build_encoder)
    try:
        yield
    finally:
        ROBOTS.unregister("toy")
        TRACKERS.unregister("toy-tracker")
        PLANNERS.unregister("toy-planner")
        ENCODERS.unregister("toy-encoder")


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def _run_toy(
    tmp_path: Path, *extra: str, config_text: str = "type: toy\ntint: 90\n", controller: str = "scripted"
) -> tuple[int, str]:
    config = tmp_path / "toy.yaml"
    config.write_text(config_text)
    return _invoke(
        "run", "clear the table", "--robot", "toy", "--robot-config", str(config),
        "--planner", "toy-planner", "--tracker", "toy-tracker", "--controller", controller, *extra,
    )  # fmt: skip


def test_a_registered_robot_and_planner_run_as_themselves(toys: None, tmp_path: Path) -> None:
    code, output = _run_toy(tmp_path, "--planner-option", "mood=sunny", "--tracker-option", "depth=2")
    assert code == 0, output
    names = [name for name, _ in EVENTS]
    assert names[:3] == ["planner built", "robot built", "robot homed"], EVENTS
    assert ("planner built", "sunny") in EVENTS and ("robot built", 90) in EVENTS
    assert ("planner proposed", 90) in EVENTS  # it saw the toy robot's image, not a sim render
    assert ("planner checked", "clear the table") in EVENTS and names[-1] == "robot closed"


def test_a_registered_tracker_follows_the_target_of_a_learned_controller_on_the_robot(
    toys: None, tmp_path: Path, tiny_config: Callable[..., Any]
) -> None:
    from dexagent.controller.checkpoint import save_checkpoint
    from dexagent.controller.normalizer import Normalizer
    from dexagent.controller.policy import DexGraspPolicy

    spec = ToyRobot(ToyRobotConfig()).spec
    policy = DexGraspPolicy(
        tiny_config(image_size=32), Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False
    )
    checkpoint = save_checkpoint(tmp_path / "ckpt", policy)
    tree = tmp_path / "one_grasp.yaml"
    tree.write_text(
        "tree:\n  sequence:\n    - plan: {prompt: '{prompt}', allow_empty: false}\n"
        "    - grasp: {target: '{instruction}', budget_s: 0.5}\n"
    )
    EVENTS.clear()
    code, output = _run_toy(
        tmp_path, "--planner-option", "mood=keen", "--tracker-option", "depth=3", "--tree", str(tree),
        controller=str(checkpoint),
    )  # fmt: skip
    assert code == 1 and "timeout after 0.5 s" in output, output  # a random policy does not grasp
    names = [name for name, _ in EVENTS]
    assert ("planner grounded", "cup") in EVENTS and ("tracker built", 3) in EVENTS, EVENTS
    assert ("tracker started", (8.0, 8.0, 20.0, 20.0)) in EVENTS, EVENTS
    assert names.index("tracker started") > names.index("tracker built") > names.index("planner grounded")


def test_a_registered_plugins_options_are_checked_by_its_config(toys: None, tmp_path: Path) -> None:
    code, output = _run_toy(tmp_path, "--tracker-option", "depth=0")
    assert code == 2 and "toy-tracker tracker option 'depth'" in output, output
    code, output = _run_toy(tmp_path, "--tracker-option", "width=3")
    assert code == 2 and "unknown toy-tracker tracker option 'width' (known: depth)" in output, output
    code, output = _run_toy(tmp_path, "--planner-option", "colour=red")
    assert code == 2 and "unknown toy-planner planner option 'colour' (known: mood)" in output, output
    code, output = _run_toy(tmp_path, config_text="type: toy\ntint: 300\n")
    assert code == 2 and "tint: Input should be less than or equal to 255" in output, output
    assert not [name for name, _ in EVENTS if name == "robot built"]  # nothing connected on bad input


def test_a_robot_config_of_another_type_is_refused_by_name(toys: None, tmp_path: Path) -> None:
    code, output = _run_toy(tmp_path, config_text="type: sim\n")
    assert code == 2 and "--robot toy needs `type: toy`, the file says `type: sim`" in output, output


def test_collect_refuses_a_registered_robot_it_cannot_record_on(toys: None, tmp_path: Path) -> None:
    code, output = _invoke("collect", "-n", "1", "--out", str(tmp_path / "d.zarr"), "--robot", "toy")
    assert (
        code == 2
        and "--robot toy: collect records demonstrations on the sim or the real robot only" in output
    )
    code, output = _invoke("run", "clear the table", "--robot", "moon", "--controller", "scripted")
    assert code == 2 and "unknown robot 'moon'; this build drives: sim, real, toy" in output


def test_a_registered_encoder_is_built_by_controller_info(toys: None, tmp_path: Path) -> None:
    config = get_config("sim-cnn").to_dict()
    config["head_encoder"]["kind"] = "toy-encoder"
    path = tmp_path / "toy.json"
    path.write_text(json.dumps(config))
    code, output = _invoke("controller", "info", str(path))
    assert code == 0, output
    assert ("encoder built", config["image_size"]) in EVENTS
    assert "head toy-encoder" in output
    config["head_encoder"]["kind"] = "lens"
    path.write_text(json.dumps(config))
    code, output = _invoke("controller", "info", str(path))
    assert code == 2 and "head_encoder.kind must be one of dinov2, cnn, toy-encoder, got 'lens'" in output


def test_dexagent_plugins_lists_each_registered_one_with_its_options(toys: None) -> None:
    code, output = _invoke("plugins")
    assert code == 0, output
    for name in ("toy", "toy-tracker", "toy-planner", "toy-encoder", "sim", "sam2", "openai", "dinov2"):
        assert f" {name} " in output, name
    assert "mood  how the toy planner feels" in output and "depth  how hard the toy tracker looks" in output
    code, output = _invoke("plugins", "planner")
    assert code == 0 and "toy-planner" in output and "toy-tracker" not in output


# The command-line help is written when the CLI loads, so the plug-ins are registered before that,
# in a fresh interpreter (this one loaded the CLI long ago).
_HELP_PROBE = """
from dexagent.agent.planner import PLANNERS
from dexagent.controller.config import ENCODERS
from dexagent.controller.perception import TRACKERS
from dexagent.hardware.registry import ROBOTS
for registry, name in ((ROBOTS, "toy"), (TRACKERS, "toy-tracker"), (PLANNERS, "toy-planner"),
                       (ENCODERS, "toy-encoder")):
    registry.register(name, "a test " + registry.kind, factory=print)
from typer.testing import CliRunner
from dexagent.cli.app import app
for args in (["run"], ["collect"], ["doctor"], ["controller", "info"]):
    print("==", " ".join(args))
    print(CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "250"}).output)
"""


def test_every_commands_help_lists_what_was_registered_before_the_cli_loads() -> None:
    done = subprocess.run([sys.executable, "-c", _HELP_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    flat = " ".join(done.stdout.replace("│", " ").split())  # one line, without the tables' borders
    helps = {part.split(" Usage:", 1)[0]: part for part in flat.split("== ")[1:]}
    assert "The robot type: sim, real, toy;" in helps["run"]
    assert "The planner: scene, openai, toy-planner." in helps["run"]
    assert "the mask tracker: oracle, sam+cutie, sam2, toy-tracker." in helps["run"]
    assert "The robot, one of sim, real, toy:" in helps["collect"]
    assert "the mask tracker for the target: oracle, sam+cutie, sam2, toy-tracker." in helps["collect"]
    assert "this mask tracker: oracle, sam+cutie, sam2, toy-tracker" in helps["doctor"]
    assert "Encoder kinds a config may name: dinov2, cnn, toy-encoder." in helps["controller info"]
