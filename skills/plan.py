"""`plan(prompt)`: ask the planner for the remaining instructions (the paper's monitor/replan step).

The agent asks for a first plan before the tree exists (it picks the tree); the tree's first
`plan` step, asking the same about the same frame, takes that plan instead of asking again.
"""

from __future__ import annotations

from concurrent.futures import Future

from py_trees.common import Status

from dexagent.hardware import Observation
from dexagent.skills import blackboard_keys as keys
from dexagent.skills.base import SkillBehaviour
from dexagent.skills.bundled import PLAN, PlanParams
from dexagent.skills.planning import AttemptRecord, Plan


class PlanStep(SkillBehaviour):
    """The `plan` leaf: takes the agent's first plan once, otherwise asks the planner off the tick thread."""

    info = PLAN
    READS = PLAN.reads
    WRITES = PLAN.writes

    def start(self) -> None:
        params = self.params
        assert isinstance(params, PlanParams)
        history = tuple(self.read(keys.HISTORY) or ())
        observation = self.context.observation()
        first = self._first_plan(params.prompt, observation, history)
        self.reused = first is not None
        if first is not None:
            self.write(keys.FIRST_PLAN, None)  # taken once: a later step asks the planner
            self.future: Future[Plan] = Future()
            self.future.set_result(first)
            return
        self.future = self.submit(self.context.planner.propose, params.prompt, observation, history)

    def _first_plan(
        self, prompt: str, observation: Observation, history: tuple[AttemptRecord, ...]
    ) -> Plan | None:
        """The agent's first plan when this step asks what it asked: the run's prompt, nothing attempted
        yet, and the very frame the first plan was made from (no tick has passed since)."""
        first = self.read(keys.FIRST_PLAN)
        if not isinstance(first, Plan) or history or prompt != self.read(keys.PROMPT):
            return None
        return first if self.read(keys.FIRST_OBSERVATION) is observation else None

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
                "reused_first_plan": self.reused,
            },
        )
        if not instructions and not params.allow_empty:
            return self.fail("the planner proposed no instructions")
        return Status.SUCCESS
