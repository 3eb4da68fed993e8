"""What can go wrong when planning: our exceptions, with messages a user can act on."""

from __future__ import annotations


class PlannerError(RuntimeError):
    """The planner could not produce a usable answer (bad replies, HTTP errors, unknown prompt, ...)."""


class PlannerUnreachableError(PlannerError):
    """The planner's server cannot be reached at all (connection refused, DNS failure); the CLI exits 2."""


class PlannerConfigError(PlannerError):
    """A planner option is missing or invalid (unknown backend, box format, model name, ...)."""


class PromptNotUnderstoodError(PlannerError):
    """The planner cannot make sense of the prompt at all (the scene planner's grammar): bad input,
    so the CLI exits 2 with what it does understand."""


class ReplyError(ValueError):
    """One model reply could not be turned into the typed value a stage needs.

    The message is written for the model: it is fed back verbatim in the repair request,
    so it says what was wrong and what a correct reply looks like.
    """
