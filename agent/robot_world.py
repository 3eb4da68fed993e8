"""A run on a robot without a simulator behind it: the planner verifies grasps, a tracker follows the target.

The sim's run (`sim_world.sim_agent_run`) reads ground truth; here success comes from the
planner's verifier, the bin pose from the robot config, and the mask tracker is injected
by name (the sim's `oracle` needs segmentation only the simulator has).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dexagent.agent.episode_log import EpisodeLog
from dexagent.agent.runner import AgentRun, RunConfig, RunState
from dexagent.controller.factory import load_controller
from dexagent.controller.perception import TrackerFactory
from dexagent.controller.precision import PrecisionChoice
from dexagent.hardware import Observation, Robot
from dexagent.skills.planning import Planner


def robot_agent_run(
    robot: Robot,
    planner: Planner,
    controller: str,
    tracker: TrackerFactory,
    config: RunConfig,
    *,
    drop_pose: np.ndarray | None = None,
    log: EpisodeLog | None = None,
    on_tick: Callable[[RunState], None] | None = None,
    on_frame: Callable[[Observation], None] | None = None,
    precision: PrecisionChoice = "auto",
) -> AgentRun:
    """An `AgentRun` on `robot`: verifier success checks, wall-clock time, learned controllers
    (inferring in `precision`)."""
    if config.success_check != "verifier":
        raise ValueError("a robot without a simulator can only check grasps with the planner's verifier")
    return AgentRun(
        robot,
        planner,
        lambda skill: load_controller(controller, robot, skill, tracker=tracker, precision=precision),
        config,
        drop_pose=drop_pose,
        log=log,
        on_tick=on_tick,
        on_frame=on_frame,
    )
