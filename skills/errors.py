"""Exceptions raised by the skill registry and by skill parameters."""

from __future__ import annotations


class SkillError(ValueError):
    """Base class: something about a skill name or its parameters is wrong."""


class UnknownSkillError(SkillError):
    """A tree or plan names a skill the registry does not know."""

    def __init__(self, name: str, suggestions: list[str], known: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        self.known = known
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown skill {name!r}{hint} (known skills: {', '.join(known)})")


class SkillParamError(SkillError):
    """A skill's parameters are wrong: unknown, missing, of the wrong type, or a bad blackboard reference.

    `problems` lists (field, problem) pairs so a tree loader can point at the line of each field.
    """

    def __init__(self, skill: str, problems: list[tuple[str, str]]) -> None:
        self.skill = skill
        self.problems = problems
        details = "; ".join(f"parameter {field!r}: {problem}" for field, problem in problems)
        super().__init__(f"{skill}: {details}")

    @property
    def field(self) -> str:
        """The first offending field (most errors have exactly one)."""
        return self.problems[0][0]
