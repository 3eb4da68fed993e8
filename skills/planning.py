"""What skills and the agent need from a planner: its value types and protocol.

The planners themselves (VLM over an OpenAI-compatible API, and the offline
`scene` planner) live in `dexagent.agent`; they implement `Planner` here so that
skills can ground targets and verify grasps without importing the agent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Protocol, runtime_checkable

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dexagent.controller.skill_spec import CONTROLLED_SKILLS, DEFAULT_SKILL

if TYPE_CHECKING:  # the planner's signatures only: the value types above load without numpy
    from dexagent.hardware import Box, Observation


def _controlled_skill(name: str) -> str:
    if name not in CONTROLLED_SKILLS:
        known = ", ".join(CONTROLLED_SKILLS.names())
        raise ValueError(f"unknown skill {name!r}; the planner's skills are: {known}")
    return name


# A controller-driven skill's name, checked against the registry when the instruction is made.
SkillName = Annotated[str, AfterValidator(_controlled_skill)]


class Instruction(BaseModel):
    """One grasp instruction, e.g. skill="grasp", target="the red cup", text="grasp the red cup"."""

    model_config = ConfigDict(frozen=True)

    skill: SkillName = DEFAULT_SKILL
    target: str = Field(min_length=1, description="the object, as a referring expression")
    text: str = Field(min_length=1, description="the instruction as a sentence")


class Plan(BaseModel):
    """The planner's current plan for a prompt: the instructions still to do, in order."""

    model_config = ConfigDict(frozen=True)

    instructions: tuple[Instruction, ...]
    reasoning: str = ""


class Verdict(BaseModel):
    """A yes/no judgement with the model's reasoning (grasp verified, prompt complete, ...)."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    reasoning: str = ""


class AttemptRecord(BaseModel):
    """What happened when an instruction was attempted; the planner's history."""

    model_config = ConfigDict(frozen=True)

    instruction: Instruction
    success: bool
    reason: str = ""


@runtime_checkable
class Planner(Protocol):
    """The high-level planner (the paper's VLM), as skills and the agent use it.

    Calls may be slow (network); callers run them off the tick thread.
    """

    def propose(self, prompt: str, observation: Observation, history: Sequence[AttemptRecord]) -> Plan:
        """The remaining instructions for `prompt` given the scene now and what was attempted."""

    def ground(self, instruction: Instruction, observation: Observation) -> Box:
        """The target's box in `observation.head_rgb` pixel coordinates."""

    def verify_grasp(self, instruction: Instruction, observation: Observation) -> Verdict:
        """Whether the target is now held (head and wrist images)."""

    def is_complete(self, prompt: str, first_observation: Observation, observation: Observation) -> Verdict:
        """Whether the prompt is done, comparing the first head image with the current one."""
