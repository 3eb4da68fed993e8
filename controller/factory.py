"""`load_controller`: a controller by name — `scripted`, `default` (the shipped checkpoint) or a folder."""

from __future__ import annotations

from pathlib import Path

from dexagent.controller.interfaces import Controller
from dexagent.controller.perception import TrackerFactory, tracker_factory
from dexagent.controller.precision import PrecisionChoice
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import Robot

CHECKPOINTS_DIR = Path(__file__).resolve().parent / "checkpoints"


_NO_DEFAULT = (
    "no learned checkpoint ships for skill {skill!r} yet (looked in {folder}); "
    "use --controller scripted, or --controller PATH for a checkpoint you trained"
)
_NOT_A_CONTROLLER = "controller {name!r} is neither 'scripted', 'default' nor an existing checkpoint folder"


class ControllerNotFoundError(LookupError):
    """The named controller does not exist here (no checkpoint, unknown name, missing component)."""


def default_checkpoint(skill: str) -> Path:
    """The folder of the learned checkpoint that ships for `skill` (it may not exist yet)."""
    return CHECKPOINTS_DIR / skill


def check_controller(name: str, skill: str) -> None:
    """Raise ControllerNotFoundError now for a name `load_controller` would reject (reads the whole
    checkpoint but builds no weights: about a second for the shipped one)."""
    if skill not in CONTROLLED_SKILLS:
        valid = ", ".join(CONTROLLED_SKILLS.names())
        raise ControllerNotFoundError(f"unknown skill {skill!r}; valid skills: {valid}")
    if name == "scripted":
        if CONTROLLED_SKILLS.get(skill).expert is None:
            experts = ", ".join(s.name for s in CONTROLLED_SKILLS if s.expert is not None)
            raise ControllerNotFoundError(
                f"the scripted controller has no expert for skill {skill!r} (it has: {experts})"
            )
        return
    folder = default_checkpoint(skill) if name == "default" else Path(name).expanduser()
    if name == "default" and not folder.is_dir():
        raise ControllerNotFoundError(_NO_DEFAULT.format(skill=skill, folder=folder))
    if not folder.is_dir():
        raise ControllerNotFoundError(_NOT_A_CONTROLLER.format(name=name))
    from dexagent.controller.checkpoint import CheckpointError, check_checkpoint

    try:
        # Every file read and checked (weights, shapes, normaliser): a broken checkpoint fails
        # here with one line naming the file, before any episode or tick.
        check_checkpoint(folder)
    except CheckpointError as error:
        raise ControllerNotFoundError(f"{folder} is not a usable checkpoint: {error}") from None


def controller_image_size(name: str, skill: str) -> int | None:
    """The camera size a learned controller was trained at (None for `scripted`).

    Call `check_controller` first: this reads the checkpoint's config.json."""
    if name == "scripted":
        return None
    from dexagent.controller.checkpoint import load_config

    folder = default_checkpoint(skill) if name == "default" else Path(name).expanduser()
    return load_config(folder).render_size


def controller_precision(name: str, skill: str, choice: PrecisionChoice) -> str | None:
    """The line saying which chunk precision a learned controller will use here and why (None
    for `scripted`). Call `check_controller` first."""
    if name == "scripted":
        return None
    import torch

    from dexagent.controller.checkpoint import load_config
    from dexagent.controller.precision import resolve_precision

    config = load_config(default_checkpoint(skill) if name == "default" else Path(name).expanduser())
    return resolve_precision(
        choice if choice != "auto" else config.inference_precision, "inference", config, torch.device("cpu")
    )[1]


def load_controller(
    name: str,
    robot: Robot,
    skill: str,
    *,
    seed: int = 0,
    synchronous: bool | None = None,
    tracker: TrackerFactory | None = None,
    precision: PrecisionChoice = "auto",
) -> Controller:
    """Build the controller called `name` for `skill` on `robot`.

    name: "scripted" (the sim's privileged expert; needs a SimRobot), "default" (the
    checkpoint shipped in controller/checkpoints/<skill>/) or a checkpoint folder path.
    `seed` seeds a learned controller's diffusion noise, so sim episodes repeat exactly.
    `synchronous`: a learned controller predicts in the tick (the default in sim, where time
    stands still while the policy thinks: exact and repeatable) or in the background (the
    default on a real robot).
    `tracker` makes the learned controller's mask tracker (default: the sim's `oracle`); see
    `dexagent.controller.perception` for the registered ones.
    `precision` of a learned controller's chunks (controller/precision.py; "auto": its default).
    """
    check_controller(name, skill)
    if name == "scripted":
        return _scripted(robot, skill)
    folder = default_checkpoint(skill) if name == "default" else Path(name).expanduser()
    return _learned(folder, robot, seed, synchronous, tracker or tracker_factory("oracle"), precision)


def _scripted(robot: Robot, skill: str) -> Controller:
    from dexagent.controller.scripted import ScriptedController
    from dexagent.hardware.sim.robot import SimRobot

    if not isinstance(robot, SimRobot):
        raise ControllerNotFoundError(
            "the scripted controller reads the simulator's ground truth and runs only on the sim robot"
        )
    return ScriptedController(robot, skill=skill)


def _learned(
    folder: Path,
    robot: Robot,
    seed: int,
    synchronous: bool | None,
    tracker: TrackerFactory,
    precision: PrecisionChoice,
) -> Controller:
    # Lazy: the learned stack imports torch and the encoders, which `scripted` runs never need.
    from dexagent.controller.checkpoint import CheckpointError
    from dexagent.controller.runtime import PolicyController
    from dexagent.hardware.sim.robot import SimRobot

    if synchronous is None:
        synchronous = isinstance(robot, SimRobot)
    try:
        controller: Controller = PolicyController.from_checkpoint(
            folder, tracker(), spec=robot.spec, synchronous=synchronous, seed=seed, precision=precision
        )
    except CheckpointError as error:
        raise ControllerNotFoundError(f"cannot load the learned controller from {folder}: {error}") from None
    return controller
