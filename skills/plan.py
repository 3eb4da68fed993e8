"""`plan(prompt)`: ask the planner for the remaining instructions (the paper's monitor/replan step)."""

from __future__ import annotations

from concurrent.futures import Future

from py_trees.common import Status
from pydantic import BaseModel, ConfigDict, Field

from dexagent.skills import blackboard_keys as keys
from dexagent.skills.base import SkillBehaviour, skill
from dexagent.skills.planning import Plan


class PlanParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, description="the user's prompt, e.g. 'grasp all bottles'")
    budget_s: float = Field(60.0, gt=0, description="seconds to wait for the plan")
    allow_empty: bool = Field(True, description="succeed with an empty plan (nothing left to do)")


@skill(
    "plan",
    PlanParams,
    reads=(keys.HISTORY,),
    writes=(keys.PLAN, keys.INSTRUCTIONS, keys.INSTRUCTION, keys.TARGET),
)
class PlanStep(SkillBehaviour):
    """Ask the planner for the instructions still to do and write them to the blackboard."""

    READS = (keys.HISTORY,)
    WRITES = (keys.PLAN, keys.INSTRUCTIONS, keys.INSTRUCTION, keys.TARGET)

    def start(self) -> None:
        params = self.params
        assert isinstance(params, PlanParams)
        history = tuple(self.read(keys.HISTORY) or ())
        observation = self.context.observation()
        self.future: Future[Plan] = self.submit(
            self.context.planner.propose, params.prompt, observation, history
        )

    def poll(self) -> Status:
        params = self.params
        assert isinstance(params, PlanParams)
        self.context.hold()  # keep sim time flowing while the planner thinks
        if not self.future.done():
            return Status.RUNNING
        try:
            plan = self.future.result()
        except Exception as error:  # the planner is an outer boundary (network, model, unknown prompt)
            return self.fail(f"planner could not plan {params.prompt!r}: {error}")
        instructions = list(plan.instructions)
        self.write(keys.PLAN, plan)
        self.write(keys.INSTRUCTIONS, instructions)
        self.write(keys.INSTRUCTION, instructions[0] if instructions else None)
        self.write(keys.TARGET, instructions[0].target if instructions else None)
        self.context.log(
            "plan",
            {
                "prompt": params.prompt,
                "instructions": [i.text for i in instructions],
                "reasoning": plan.reasoning,
            },
        )
        if not instructions and not params.allow_empty:
            return self.fail("the planner proposed no instructions")
        return Status.SUCCESS
