"""`resolve_controller`: a controller by name — `scripted`, `default` (the shipped checkpoint) or a folder.

Resolving reads and verifies a checkpoint once; the `ControllerChoice` it returns answers what a
run needs to know before it builds anything (the render sizes, the chunk precision) and then
builds the controller from what it read, without reading the files again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dexagent.controller.interfaces import Controller
from dexagent.controller.perception import TrackerFactory, tracker_factory
from dexagent.controller.precision import PrecisionChoice
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import Robot, RobotSpec
from dexagent.hardware.sim.scene_spec import CameraSizes

if TYPE_CHECKING:  # the learned stack imports torch, which `scripted` runs never need
    from dexagent.controller.checkpoint import VerifiedCheckpoint

CHECKPOINTS_DIR = Path(__file__).resolve().parent / "checkpoints"


_NO_DEFAULT = (
    "no learned checkpoint ships for skill {skill!r} yet (looked in {folder}); "
    "use --controller scripted, or --controller PATH for a checkpoint you trained"
)
_NOT_A_CONTROLLER = "controller {name!r} is neither 'scripted', 'default' nor an existing checkpoint folder"


class ControllerNotFoundError(LookupError):
    """The named controller does not exist here (no checkpoint, unknown name, missing component)."""


class EmbodimentMismatchError(ControllerNotFoundError):
    """A learned controller was trained for a robot of another size than the one it would drive."""


def default_checkpoint(skill: str) -> Path:
    """The folder of the learned checkpoint that ships for `skill` (it may not exist yet)."""
    return CHECKPOINTS_DIR / skill


@dataclass(frozen=True)
class ControllerChoice:
    """The controller called `name` for `skill`, resolved: for a learned one, its checkpoint read
    and verified (`checkpoint`); None for `scripted`."""

    name: str
    skill: str
    checkpoint: VerifiedCheckpoint | None = None

    @property
    def render_sizes(self) -> CameraSizes | None:
        """The camera sizes the learned controller's demos were rendered at (None for `scripted`)."""
        if self.checkpoint is None:
            return None
        config = self.checkpoint.config
        return CameraSizes(config.render_size, config.wrist_render_size)

    def check_fits(self, robot: Robot) -> None:
        """Refuse (EmbodimentMismatchError, both shapes named) a learned controller whose states and
        actions are not one value per joint of `robot`; any robot fits `scripted`."""
        if self.checkpoint is None:
            return
        spec: RobotSpec = robot.spec
        joints = len(spec.joint_names)
        state_dim, action_dim = self.checkpoint.config.dims
        if state_dim == action_dim == joints:
            return
        reads = "" if state_dim == action_dim else f" from {state_dim}-D states"
        raise EmbodimentMismatchError(
            f"checkpoint {self.checkpoint.directory} acts in {action_dim} dimensions{reads}; robot "
            f"{type(robot).__name__} has {joints} joints ({', '.join(spec.joint_names)}): "
            "use a checkpoint trained on this robot's demos"
        )

    def precision_note(self, choice: PrecisionChoice) -> str | None:
        """The line saying which chunk precision the learned controller will use here and why (None
        for `scripted`)."""
        if self.checkpoint is None:
            return None
        import torch

        from dexagent.controller.precision import resolve_precision

        config = self.checkpoint.config
        chosen = choice if choice != "auto" else config.inference_precision
        return resolve_precision(chosen, "inference", config, torch.device("cpu"))[1]

    def build(
        self,
        robot: Robot,
        *,
        seed: int = 0,
        synchronous: bool | None = None,
        tracker: TrackerFactory | None = None,
        precision: PrecisionChoice = "auto",
    ) -> Controller:
        """Build the controller for `skill` on `robot` from what was read (no file is read again).

        "scripted" is the sim's privileged expert (it needs a SimRobot). `seed` seeds a learned
        controller's diffusion noise, so sim episodes repeat exactly. `synchronous`: a learned
        controller predicts in the tick (the default in sim, where time stands still while the
        policy thinks: exact and repeatable) or in the background (the default on a real robot).
        `tracker` makes its mask tracker (default: the sim's `oracle`; see
        `dexagent.controller.perception`). `precision` of its chunks (controller/precision.py).
        """
        if self.checkpoint is None:
            return _scripted(robot, self.skill)
        self.check_fits(robot)
        return _learned(
            self.checkpoint, robot, seed, synchronous, tracker or tracker_factory("oracle"), precision
        )


def resolve_controller(name: str, skill: str) -> ControllerChoice:
    """The controller `name` for `skill`, checked now (ControllerNotFoundError for a name that cannot
    run): a checkpoint is read whole and verified here, once - about a second for the shipped one.

    name: "scripted", "default" (the checkpoint shipped in controller/checkpoints/<skill>/) or a
    checkpoint folder path."""
    if skill not in CONTROLLED_SKILLS:
        valid = ", ".join(CONTROLLED_SKILLS.names())
        raise ControllerNotFoundError(f"unknown skill {skill!r}; valid skills: {valid}")
    if name == "scripted":
        if CONTROLLED_SKILLS.get(skill).expert is None:
            experts = ", ".join(s.name for s in CONTROLLED_SKILLS if s.expert is not None)
            raise ControllerNotFoundError(
                f"the scripted controller has no expert for skill {skill!r} (it has: {experts})"
            )
        return ControllerChoice(name, skill)
    folder = default_checkpoint(skill) if name == "default" else Path(name).expanduser()
    if name == "default" and not folder.is_dir():
        raise ControllerNotFoundError(_NO_DEFAULT.format(skill=skill, folder=folder))
    if not folder.is_dir():
        raise ControllerNotFoundError(_NOT_A_CONTROLLER.format(name=name))
    from dexagent.controller.checkpoint import CheckpointError, read_checkpoint

    try:
        # Every file read and checked (weights, shapes, normaliser): a broken checkpoint fails
        # here with one line naming the file, before any episode or tick.
        return ControllerChoice(name, skill, read_checkpoint(folder))
    except CheckpointError as error:
        raise ControllerNotFoundError(f"{folder} is not a usable checkpoint: {error}") from None


def _scripted(robot: Robot, skill: str) -> Controller:
    from dexagent.controller.scripted import ScriptedController
    from dexagent.hardware.sim.robot import SimRobot

    if not isinstance(robot, SimRobot):
        raise ControllerNotFoundError(
            "the scripted controller reads the simulator's ground truth and runs only on the sim robot"
        )
    return ScriptedController(robot, skill=skill)


def _learned(
    checkpoint: VerifiedCheckpoint,
    robot: Robot,
    seed: int,
    synchronous: bool | None,
    tracker: TrackerFactory,
    precision: PrecisionChoice,
) -> Controller:
    # Lazy: the learned stack imports torch and the encoders, which `scripted` runs never need.
    from dexagent.controller.checkpoint import CheckpointError, build_policy
    from dexagent.controller.runtime import PolicyController
    from dexagent.hardware.sim.robot import SimRobot

    if synchronous is None:
        synchronous = isinstance(robot, SimRobot)
    try:
        policy = build_policy(checkpoint)
    except CheckpointError as error:  # a frozen encoder's weights cannot be had (package, hub, folder)
        raise ControllerNotFoundError(
            f"cannot load the learned controller from {checkpoint.directory}: {error}"
        ) from None
    return PolicyController(
        policy, tracker(), spec=robot.spec, synchronous=synchronous, seed=seed, precision=precision
    )
