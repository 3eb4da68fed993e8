"""Skill parameters declared as data: a frozen dataclass of `param()` fields.

    @dataclass(frozen=True, kw_only=True)
    class ResetParams:
        budget_s: float = param(15.0, gt=0, description="seconds for the whole reset")

Listing the skills (`dexagent skills`) reads these declarations with the standard library
alone (`param_rows`); validating a tree's values builds a pydantic model from them on first
use (`skills/params.py`), and a leaf receives an instance of the dataclass. A skill may give
a pydantic model instead (its rows then come from the model's JSON schema).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The constraints a `param()` may carry, with pydantic's names for them.
CONSTRAINTS = ("gt", "ge", "lt", "le", "min_length")
# Python annotations in JSON-schema words, as the listing shows them.
_JSON_TYPES = {"float": "number", "int": "integer", "bool": "boolean", "str": "string", "None": "null"}


def param(
    default: Any = dataclasses.MISSING,
    *,
    description: str,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    min_length: int | None = None,
    before: Callable[[Any], Any] | None = None,
) -> Any:
    """A parameter field: its default (none: required), description and bounds; `before` maps a
    value before it is checked (e.g. a whole plan instruction to its target text)."""
    given = dict(gt=gt, ge=ge, lt=lt, le=le, min_length=min_length)
    metadata: dict[str, Any] = {"description": description}
    metadata.update({name: value for name, value in given.items() if value is not None})
    if before is not None:
        metadata["before"] = before
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class ParamRow:
    """One parameter as the skills listing shows it."""

    name: str
    type_name: str  # JSON-schema words: "number", "string | null"
    required: bool
    default: str  # as JSON ("" when required)
    description: str


def param_rows(params: type) -> list[ParamRow]:
    """The parameters of a skill's parameter class, in declaration order."""
    if dataclasses.is_dataclass(params):
        return [_row(field) for field in dataclasses.fields(params)]
    return _schema_rows(params.model_json_schema())  # type: ignore[attr-defined]  # a pydantic model


def _row(field: dataclasses.Field[Any]) -> ParamRow:
    written = field.type  # a string under `from __future__ import annotations`, else the type
    annotation = written if isinstance(written, str) else getattr(written, "__name__", str(written))
    type_name = " | ".join(_JSON_TYPES.get(part.strip(), part.strip()) for part in annotation.split("|"))
    required = field.default is dataclasses.MISSING
    default = "" if required else json.dumps(field.default)
    return ParamRow(field.name, type_name, required, default, field.metadata.get("description", ""))


def _schema_rows(schema: dict[str, Any]) -> list[ParamRow]:
    required = set(schema.get("required", []))
    return [
        ParamRow(
            name,
            _schema_type(prop),
            name in required,
            "" if name in required else json.dumps(prop.get("default")),
            prop.get("description", ""),
        )
        for name, prop in schema.get("properties", {}).items()
    ]


def _schema_type(prop: dict[str, Any]) -> str:
    if "anyOf" in prop:
        return " | ".join(_schema_type(p) for p in prop["anyOf"])
    return str(prop.get("type", prop.get("$ref", "any").rsplit("/", 1)[-1]))
