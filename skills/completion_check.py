"""`completion_check(prompt)`: ask the planner whether the prompt is done (first image vs now)."""

from __future__ import annotations

from concurrent.futures import Future

from py_trees.common import Status

from dexagent.skills import blackboard_keys as keys
from dexagent.skills.base import SkillBehaviour
from dexagent.skills.bundled import COMPLETION_CHECK, CompletionCheckParams
from dexagent.skills.planning import Verdict


class CompletionCheck(SkillBehaviour):
    """The `completion_check` leaf: one planner call off the tick thread, polled until it answers."""

    info = COMPLETION_CHECK
    READS = COMPLETION_CHECK.reads
    WRITES = COMPLETION_CHECK.writes

    def start(self) -> None:
        params = self.params
        assert isinstance(params, CompletionCheckParams)
        observation = self.context.observation()
        first = self.read(keys.FIRST_OBSERVATION) or observation
        self.future: Future[Verdict] = self.submit(
            self.context.planner.is_complete, params.prompt, first, observation
        )

    def poll(self) -> Status:
        self.context.hold()  # keep sim time flowing while the planner thinks
        if not self.future.done():
            return Status.RUNNING
        try:
            verdict = self.future.result()
        except Exception as error:  # the planner is an outer boundary (network, model)
            return self.fail(f"planner could not check completion: {error}")
        self.write(keys.COMPLETE, verdict)
        self.context.log("completion", {"prompt": self.params_dict()["prompt"], **verdict.model_dump()})
        if verdict.ok:
            self.reason = verdict.reasoning
            return Status.SUCCESS
        return self.fail(f"not complete: {verdict.reasoning or 'the planner says the prompt is not done'}")
