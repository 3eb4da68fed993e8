"""The blackboard keys skills and the agent share (names in the run's namespace: `SkillContext.key`).

Tree files refer to them as "{target}", "{instructions}", ...
"""

PROMPT = "prompt"  # str: the user's prompt
FIRST_OBSERVATION = "first_observation"  # Observation: the scene when the run started
INSTRUCTIONS = "instructions"  # list[Instruction]: the planner's remaining instructions (written by `plan`)
PLAN = "plan"  # Plan: the last plan, with the planner's reasoning
# Plan | None: the agent's first plan (it chose the tree), until the tree's first `plan` step takes
# it instead of asking the planner the same question about the same frame again.
FIRST_PLAN = "first_plan"
INSTRUCTION = "instruction"  # Instruction: the one being attempted (a for-each over INSTRUCTIONS writes it)
TARGET = "target"  # str: the current target's referring expression
HELD_OBJECT = "held_object"  # str | None: the target a grasp succeeded on and has not been reset yet
HELD_INDEX = "held_index"  # int | None: the sim object index of HELD_OBJECT (sim only)
HISTORY = "history"  # list[AttemptRecord]: every grasp attempt so far (the planner's history)
FAILURE_REASON = "failure_reason"  # str: why the last skill failed, e.g. "grasp: timeout after 12.0 s"
COMPLETE = "complete"  # Verdict: the last completion check
GRASPED = "grasped"  # list[str]: targets grasped and put away during this run

# What the agent writes before the first tick (agent.compile.compile_run): any tree may read them.
RUN_INPUTS = (
    PROMPT,
    FIRST_OBSERVATION,
    PLAN,
    FIRST_PLAN,
    INSTRUCTIONS,
    INSTRUCTION,
    TARGET,
    HISTORY,
    GRASPED,
    HELD_OBJECT,
    HELD_INDEX,
)
