"""Skill parameters: literal values and "{key}" blackboard references, validated by pydantic.

A tree file writes `target: "{target}"` to take the value from the blackboard when the
skill starts. Literal values are checked when the tree loads (`validate_static`); a
reference is checked when the skill starts (`resolve_params`), because only then does
its value exist. A skill whose parameters are declared as a dataclass of `param()` fields
(`skills/param_fields.py`) is checked by a pydantic model built from them on first use
(`params_model`), and its leaf receives the dataclass; pydantic loads with the first check,
not with the registry.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from dexagent.hardware.plugins import field_problems
from dexagent.skills.errors import SkillParamError
from dexagent.skills.param_fields import CONSTRAINTS

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

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


@functools.cache
def params_model(params: type) -> type[BaseModel]:
    """The pydantic model that checks a skill's parameter class (a pydantic model is its own).

    For a dataclass of `param()` fields: one field per parameter with its default, description
    and bounds, unknown names refused, named as the dataclass (the JSON schema's title).
    """
    from pydantic import BeforeValidator, ConfigDict, Field, create_model

    if not dataclasses.is_dataclass(params):
        return typing.cast("type[BaseModel]", params)
    hints = typing.get_type_hints(params)
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(params):
        meta = field.metadata
        value_type, nullable = _optional_part(hints[field.name])
        rules = [Field(**{name: meta[name] for name in CONSTRAINTS if name in meta})]
        if "before" in meta:
            rules.append(BeforeValidator(meta["before"]))
        annotation: Any = Annotated[(value_type, *rules)]  # the bounds apply to the value, not to None
        if nullable:
            annotation = annotation | None
        default = ... if field.default is dataclasses.MISSING else field.default
        fields[field.name] = (annotation, Field(default, description=meta.get("description")))
    model: type[BaseModel] = create_model(params.__name__, __config__=ConfigDict(extra="forbid"), **fields)
    return model


def _optional_part(annotation: Any) -> tuple[Any, bool]:
    """`X | None` -> (X, True); anything else -> (it, False)."""
    args = typing.get_args(annotation)
    if type(None) in args and len(args) == 2:
        return next(arg for arg in args if arg is not type(None)), True
    return annotation, False


def _checked(params: type, model: BaseModel) -> Any:
    """What a leaf receives: the dataclass of the checked values (or the pydantic model itself)."""
    if dataclasses.is_dataclass(params):
        return params(**{field.name: getattr(model, field.name) for field in dataclasses.fields(params)})
    return model


def _check_names(info: SkillInfo, raw: Mapping[str, Any]) -> None:
    names = info.param_names()
    unknown = [name for name in raw if name not in names]
    if unknown:
        allowed = ", ".join(names) or "none"
        raise SkillParamError(
            info.name, [(name, f"unknown parameter (allowed: {allowed})") for name in unknown]
        )


def validate_static(info: SkillInfo, raw: Mapping[str, Any]) -> None:
    """Check names and literal values of `raw` at load time; references only need a valid key."""
    if not isinstance(raw, Mapping):
        raise SkillParamError(info.name, [("(parameters)", f"expected a mapping, got {type(raw).__name__}")])
    _check_names(info, raw)
    from pydantic import ValidationError

    refs = refs_in(raw)
    literals = {name: value for name, value in raw.items() if name not in refs}
    model = params_model(info.params)
    try:
        model.model_validate(literals)
    except ValidationError as error:
        # A field given as a reference is neither missing nor mistyped yet.
        remaining = [(f, p) for f, p in _problems(error, model) if f.split(".")[0] not in refs]
        if remaining:
            raise SkillParamError(info.name, remaining) from None


def resolve_params(
    info: SkillInfo, raw: Mapping[str, Any], blackboard: BlackboardReader | Mapping[str, Any]
) -> Any:
    """Replace references in `raw` by blackboard values and validate; `SkillParamError` on any problem.

    Returns an instance of the skill's parameter class (the dataclass, or the pydantic model)."""
    from pydantic import ValidationError

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
    model = params_model(info.params)
    try:
        checked = model.model_validate(values)
    except ValidationError as error:
        raise SkillParamError(info.name, _problems(error, model)) from None
    return _checked(info.params, checked)
