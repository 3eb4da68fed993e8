"""The world of a run, built in one place: the robot, the controllers, the planner, the camera sizes.

A run names its parts (a robot config, a controller name or checkpoint, a tracker, a planner,
the skills its tree uses); this module turns them into objects, in this order:

1. `ControllerChoices`: each skill's controller resolved, its checkpoint read and verified once.
2. `camera_sizes`: the sizes the head and wrist cameras render at - asked for, else the learned
   controllers' training sizes, else the sim's one default - so `run`, `eval`, `collect` and
   `sim video` render a given checkpoint alike, each camera at the size its encoder learned from.
3. The robot at those sizes, the planner for it, and `RunControllers`, which build each skill's
   controller once, on first use; the skill `reset()`s it every attempt.

`build_sim_world` and `robot_world` return a `World`; `World.agent_run` is the run on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from dexagent.agent.episode_log import EpisodeLog
from dexagent.agent.runner import AgentRun, RunConfig, RunState
from dexagent.controller.factory import ControllerChoice, EmbodimentMismatchError, resolve_controller
from dexagent.controller.interfaces import Controller
from dexagent.controller.perception import TrackerFactory
from dexagent.controller.precision import PrecisionChoice
from dexagent.hardware import Observation, Robot
from dexagent.hardware.sim.config import SimRobotConfig
from dexagent.hardware.sim.scene_spec import DEFAULT_IMAGE_SIZE, CameraSizes
from dexagent.skills.context import SceneTruth
from dexagent.skills.planning import Planner

if TYPE_CHECKING:  # MuJoCo loads when a sim is built
    from dexagent.hardware.sim.robot import SimRobot


class WorldError(ValueError):
    """The parts of a run do not fit together (e.g. two learned controllers of different sizes)."""


class ControllerChoices:
    """The controller `name` for each skill of a run, resolved before anything is built.

    Skills named up front are resolved now (`ControllerNotFoundError` for one that cannot run);
    a skill first asked for later (a tree the planner chose) is resolved then, once.
    """

    def __init__(self, name: str, skills: Iterable[str] = ()) -> None:
        self.name = name
        self._choices: dict[str, ControllerChoice] = {
            skill: resolve_controller(name, skill) for skill in skills
        }
        self._lock = threading.Lock()

    def __getitem__(self, skill: str) -> ControllerChoice:
        with self._lock:
            if skill not in self._choices:
                self._choices[skill] = resolve_controller(self.name, skill)
            return self._choices[skill]

    @property
    def render_sizes(self) -> CameraSizes | None:
        """The camera sizes the learned controllers were trained at; None when none is learned."""
        sizes = {skill: c.render_sizes for skill, c in self._choices.items() if c.render_sizes is not None}
        if len(set(sizes.values())) > 1:
            named = ", ".join(f"{skill} {size.shown()}" for skill, size in sizes.items())
            raise WorldError(
                f"the controllers were trained at different camera sizes ({named}); one run renders at "
                "one size: pass --image-size (and --wrist-size) to choose"
            )
        return next(iter(sizes.values()), None)

    def check_fits(self, robot: Robot) -> None:
        """Refuse (WorldError) a run whose learned controllers were trained for a robot of another
        size: both shapes named, before the robot moves. A skill resolved later is checked when its
        controller is built."""
        for choice in self._choices.values():
            try:
                choice.check_fits(robot)
            except EmbodimentMismatchError as error:
                raise WorldError(str(error)) from None

    def precision_notes(self, precision: PrecisionChoice) -> list[str]:
        """What chunk precision each learned controller will use and why, each line once."""
        notes = (choice.precision_note(precision) for choice in self._choices.values())
        return list(dict.fromkeys(note for note in notes if note is not None))


class TrainedAtSize(Protocol):
    """Controllers that know the camera sizes they were trained at (None: any, e.g. scripted)."""

    @property
    def render_sizes(self) -> CameraSizes | None: ...


def camera_sizes(
    controllers: TrainedAtSize, requested: int | None = None, requested_wrist: int | None = None
) -> CameraSizes:
    """The sizes a run's head and wrist cameras render at: `requested` for both and
    `requested_wrist` for the wrist alone, else what its learned controllers saw in training (a
    224 px frame resized to 96 is not the 96 px render they learned from), else the sim's default."""
    if requested is not None:
        return CameraSizes(requested, requested if requested_wrist is None else requested_wrist)
    trained = controllers.render_sizes or CameraSizes(DEFAULT_IMAGE_SIZE, DEFAULT_IMAGE_SIZE)
    return CameraSizes(trained.head, trained.wrist if requested_wrist is None else requested_wrist)


class RunControllers:
    """The controllers of one run on `robot`: each skill's built once, on first use, and reused.

    Called as `SkillContext.controllers`: the skill resets the controller at the start of every
    attempt and closes it (stops its background work) at the end; the next attempt resets it again.
    """

    def __init__(
        self,
        choices: ControllerChoices,
        robot: Robot,
        *,
        seed: int = 0,
        synchronous: bool | None = None,
        tracker: TrackerFactory | None = None,
        precision: PrecisionChoice = "auto",
    ) -> None:
        choices.check_fits(robot)
        self.choices = choices
        self.robot = robot
        self._options: dict[str, Any] = {
            "seed": seed,
            "synchronous": synchronous,
            "tracker": tracker,
            "precision": precision,
        }
        self.built: dict[str, Controller] = {}
        self._lock = threading.Lock()  # skills start controllers on worker threads

    def __call__(self, skill: str) -> Controller:
        with self._lock:
            if skill not in self.built:
                self.built[skill] = self.choices[skill].build(self.robot, **self._options)
            return self.built[skill]

    def close(self) -> None:
        """Stop every built controller's background work."""
        for controller in self.built.values():
            controller.close()


@dataclass
class World:
    """A run's robot, planner and controllers, and what the run loop reads of the sim (if any)."""

    robot: Robot
    planner: Planner
    controllers: RunControllers
    scene: SceneTruth | None = None
    drop_pose: np.ndarray | None = None
    clock: Callable[[], float] | None = None
    camera_sizes: CameraSizes | None = None  # what the sim's cameras render at, for the log

    def agent_run(
        self,
        config: RunConfig,
        *,
        log: EpisodeLog | None = None,
        on_tick: Callable[[RunState], None] | None = None,
        on_frame: Callable[[Observation], None] | None = None,
        executor: Executor | None = None,
    ) -> AgentRun:
        """An `AgentRun` of `config` on this world (`executor`: where skills run slow calls)."""
        return AgentRun(
            self.robot,
            self.planner,
            self.controllers,
            config,
            scene=self.scene,
            drop_pose=self.drop_pose,
            clock=self.clock,
            log=log,
            on_tick=on_tick,
            on_frame=on_frame,
            executor=executor,
        )

    def close(self) -> None:
        """Stop the controllers and close the robot."""
        try:
            self.controllers.close()
        finally:
            self.robot.close()

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_sim_world(
    robot: SimRobotConfig | SimRobot,
    controllers: ControllerChoices,
    *,
    planner: str | Planner = "scene",
    planner_options: Mapping[str, Any] | None = None,
    seed: int = 0,
    synchronous: bool | None = None,
    precision: PrecisionChoice = "auto",
) -> World:
    """The sim world of a run: `robot` (a `SimRobotConfig`, built through the robot registry, or a
    `SimRobot` already built on a chosen scene) at `camera_sizes`, the planner by registry name (or
    one built for the sim), and the controllers (`seed`: their noise, per episode).

    A config's cameras render at its `image_size` (and its wrist at its `wrist_size`) where it sets
    one (a file, --image-size, --wrist-size), else at the controllers' training sizes; a built sim
    is taken as it is. Planner errors (`PlannerError` and its kin) and WorldError (a controller
    trained for another robot) pass through, the sim closed."""
    from dexagent.agent.planner import build_planner
    from dexagent.agent.sim_world import SimTruth, drop_pose
    from dexagent.hardware.registry import make_robot
    from dexagent.hardware.sim.robot import SimRobot

    if isinstance(robot, SimRobotConfig):
        asked = robot.image_size if "image_size" in robot.model_fields_set else None
        sizes = camera_sizes(controllers, asked, robot.wrist_size)
        config = robot.model_copy(update={"image_size": sizes.head, "wrist_size": sizes.wrist})
        sim = make_robot(config)  # the robot registry, as `--robot real` goes through it
        assert isinstance(sim, SimRobot)
    else:
        sim = robot
    try:
        options = dict(planner_options or {})
        the_planner = build_planner(planner, sim, **options) if isinstance(planner, str) else planner
        run_controllers = RunControllers(
            controllers, sim, seed=seed, synchronous=synchronous, precision=precision
        )
    except BaseException:
        sim.close()
        raise
    return World(
        sim,
        the_planner,
        run_controllers,
        scene=SimTruth(sim),
        drop_pose=drop_pose(),
        clock=lambda: sim.time,
        camera_sizes=CameraSizes(sim.image_size, sim.wrist_size),
    )


def robot_world(
    robot: Robot,
    planner: Planner,
    controllers: ControllerChoices,
    tracker: TrackerFactory,
    *,
    drop_pose: np.ndarray | None = None,
    precision: PrecisionChoice = "auto",
) -> World:
    """The world of a run on a robot without a simulator behind it: the planner verifies grasps
    (no ground truth), the clock is the wall's, and the learned controllers track the target with
    `tracker` (the sim's `oracle` needs segmentation only the simulator has). WorldError for a
    learned controller trained for a robot of another size (the caller closes `robot`)."""
    return World(
        robot,
        planner,
        RunControllers(controllers, robot, tracker=tracker, precision=precision),
        drop_pose=drop_pose,
    )
