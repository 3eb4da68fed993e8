"""Skill parameters: literal values and "{key}" blackboard references, validated by pydantic.

A tree file writes `target: "{target}"` to take the value from the blackboard when the
skill starts. Literal values are checked when the tree loads (`validate_static`); a
reference is checked when the skill starts (`resolve_params`), because only then does
its value exist.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ValidationError

from dexagent.hardware.plugins import field_problems
from dexagent.skills.errors import SkillParamError

if TYPE_CHECKING:
    from dexagent.skills.registry import SkillInfo

# "{key}" or "{a/b}" or "{/abs/key}"; the whole string must be the reference.
REF_PATTERN = re.compile(r"^\{\s*(/?[A-Za-z_][A-Za-z0-9_]*(?:[./][A-Za-z_][A-Za-z0-9_]*)*)\s*\}$")


@dataclass(frozen=True)
class BlackboardRef:
    """A reference to the blackboard value `key`, written "{key}" in a tree file."""

    key: str

    @property
    def absolute_key(self) -> str:
        """The key as py_trees stores it ("/target" for "{target}")."""
        return self.key if self.key.startswith("/") else "/" + self.key

    def __str__(self) -> str:
        return "{" + self.key + "}"


def parse_ref(value: Any) -> BlackboardRef | None:
    """The reference in `value` when it is a "{key}" string (or already a BlackboardRef), else None."""
    if isinstance(value, BlackboardRef):
        return value
    if isinstance(value, str):
        match = REF_PATTERN.match(value)
        if match:
            return BlackboardRef(match.group(1))
    return None


def refs_in(raw: Mapping[str, Any]) -> dict[str, BlackboardRef]:
    """The parameters of `raw` that are blackboard references, by field name."""
    found = {}
    for field, value in raw.items():
        ref = parse_ref(value)
        if ref is not None:
            found[field] = ref
    return found


class BlackboardReader(Protocol):
    """What `resolve_params` reads from: a py_trees blackboard client, or any object with `get`."""

    def get(self, name: str) -> Any: ...


_MISSING = object()


def _lookup(blackboard: BlackboardReader | Mapping[str, Any], ref: BlackboardRef) -> Any:
    if isinstance(blackboard, Mapping):
        for key in (ref.key, ref.absolute_key):
            if key in blackboard:
                return blackboard[key]
        return _MISSING
    try:
        return blackboard.get(ref.key)  # relative keys stay relative: the reader knows the run's namespace
    except (KeyError, AttributeError):
        # py_trees raises KeyError for an unset key, AttributeError for an unregistered one.
        return _MISSING


_KINDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
# pydantic's error types that mean "not the expected kind of value" (their wording is pydantic's).
_TYPE_ERRORS = (
    "int_parsing", "int_type", "int_from_float", "float_parsing", "float_type", "bool_parsing",
    "bool_type", "string_type", "greater_than", "greater_than_equal", "less_than", "less_than_equal",
    "finite_number",
)  # fmt: skip


def _expected(model: type[BaseModel], field: str) -> str | None:
    """What a field takes, in FORMAT.md's words ("an integer >= 1", "a number > 0 and <= 3")."""
    info = model.model_fields.get(field)
    kind = _KINDS.get(info.annotation) if info is not None else None  # type: ignore[arg-type]
    if info is None or kind is None:
        return None
    bounds = [
        f"{sign} {getattr(rule, name):g}"
        for rule in info.metadata
        for name, sign in _BOUNDS
        if getattr(rule, name, None) is not None
    ]
    return f"{kind} {' and '.join(bounds)}".strip()


def _problems(error: ValidationError, model: type[BaseModel]) -> list[tuple[str, str]]:
    out = []
    for problem in field_problems(error):
        field = problem.name or "(parameters)"
        message = "unknown parameter" if problem.kind == "extra_forbidden" else problem.message
        expected = _expected(model, field) if problem.kind in _TYPE_ERRORS else None
        if expected is not None:
            message = f"expected {expected}"
        out.append((field, message))
    return out


def _check_names(info: SkillInfo, raw: Mapping[str, Any]) -> None:
    unknown = [name for name in raw if name not in info.params.model_fields]
    if unknown:
        allowed = ", ".join(info.params.model_fields) or "none"
        raise SkillParamError(
            info.name, [(name, f"unknown parameter (allowed: {allowed})") for name in unknown]
        )


def validate_static(info: SkillInfo, raw: Mapping[str, Any]) -> None:
    """Check names and literal values of `raw` at load time; references only need a valid key."""
    if not isinstance(raw, Mapping):
        raise SkillParamError(info.name, [("(parameters)", f"expected a mapping, got {type(raw).__name__}")])
    _check_names(info, raw)
    refs = refs_in(raw)
    literals = {name: value for name, value in raw.items() if name not in refs}
    try:
        info.params.model_validate(literals)
    except ValidationError as error:
        # A field given as a reference is neither missing nor mistyped yet.
        remaining = [(f, p) for f, p in _problems(error, info.params) if f.split(".")[0] not in refs]
        if remaining:
            raise SkillParamError(info.name, remaining) from None


def resolve_params(
    info: SkillInfo, raw: Mapping[str, Any], blackboard: BlackboardReader | Mapping[str, Any]
) -> BaseModel:
    """Replace references in `raw` by blackboard values and validate; `SkillParamError` on any problem."""
    _check_names(info, raw)
    values: dict[str, Any] = {}
    missing: list[tuple[str, str]] = []
    for name, value in raw.items():
        ref = parse_ref(value)
        if ref is None:
            values[name] = value
            continue
        found = _lookup(blackboard, ref)
        if found is _MISSING:
            missing.append((name, f"blackboard key {ref.absolute_key!r} (from {ref}) is not set"))
        else:
            values[name] = found
    if missing:
        raise SkillParamError(info.name, missing)
    try:
        return info.params.model_validate(values)
    except ValidationError as error:
        raise SkillParamError(info.name, _problems(error, info.params)) from None
