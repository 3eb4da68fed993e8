"""The JSON Schema of the YAML tree format, for editors (e.g. the YAML language server).

Generated from the grammar and from the skill registry, so every registered skill's
parameters are completed and checked as you type. Any parameter may also be a "{key}"
blackboard reference. The loader remains the authority: it also checks things a schema
cannot (subtree names, include cycles).
"""

from __future__ import annotations

from typing import Any

from dexagent.skills.params import REF_PATTERN
from dexagent.skills.registry import REGISTRY, SkillRegistry
from dexagent.trees.options import KEY_PATTERN

SCHEMA_ID = "https://dexagent.dev/schemas/tree.json"
_NODE = {"$ref": "#/$defs/node"}
_NAME = {"type": "string", "minLength": 1, "description": "shown in the live view and renders"}
_REF = {"type": "string", "pattern": REF_PATTERN.pattern, "description": 'a "{key}" blackboard reference'}


def _node_type(key: str, body: dict[str, Any], description: str, **options: Any) -> dict[str, Any]:
    required = [key, *[name for name, schema in options.items() if schema.pop("required", False)]]
    return {
        "type": "object",
        "description": description,
        "properties": {key: body, "name": _NAME, **options},
        "required": required,
        "additionalProperties": False,
    }


def _children() -> dict[str, Any]:
    return {"type": "array", "items": _NODE, "minItems": 1, "description": "child nodes, ticked in order"}


def _node_types() -> dict[str, dict[str, Any]]:
    memory = {"type": "boolean", "default": True, "description": "false: reactive, re-check earlier children"}
    return {
        "sequence": _node_type(
            "sequence", _children(), "Run children in order until one fails.", memory=memory
        ),
        "selector": _node_type(
            "selector", _children(), "Run children in order until one succeeds.", memory=dict(memory)
        ),
        "parallel": _node_type(
            "parallel",
            _children(),
            "Tick all children every tick.",
            policy={"enum": ["success_on_all", "success_on_one"], "default": "success_on_all"},
        ),
        "round_robin": _node_type(
            "round_robin", _children(), "A selector that starts after the child that last succeeded."
        ),
        "recovery": _node_type(
            "recovery",
            {
                "type": "object",
                "properties": {"try": _NODE, "recover": _NODE},
                "required": ["try", "recover"],
                "additionalProperties": False,
            },
            "Run `try`; on failure run `recover` and try again.",
            retries={"type": "integer", "minimum": 1, "default": 1},
        ),
        "retry": _node_type(
            "retry",
            _NODE,
            "Run the child up to `attempts` times.",
            attempts={"type": "integer", "minimum": 1, "required": True},
        ),
        "timeout": _node_type(
            "timeout",
            _NODE,
            "Fail when the child runs longer than `seconds`.",
            seconds={"type": "number", "exclusiveMinimum": 0, "required": True},
        ),
        "inverter": _node_type("inverter", _NODE, "Swap success and failure."),
        "repeat": {
            **_node_type(
                "repeat",
                _NODE,
                "Run the child `times` times, or `until` it fails/succeeds.",
                times={"type": "integer", "minimum": 1},
                until={"enum": ["failure", "success"]},
            ),
            "oneOf": [{"required": ["times"]}, {"required": ["until"]}],
        },
        "for_each": _node_type(
            "for_each",
            _NODE,
            "Run the child once per item, writing the item to the key `as`.",
            items={"anyOf": [_REF, {"type": "array"}], "required": True},
            **{"as": {"type": "string", "pattern": KEY_PATTERN.pattern, "required": True}},
            on_failure={"enum": ["stop", "continue"], "default": "stop"},
        ),
        "subtree": _node_type(
            "subtree", {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}, "Run a named subtree."
        ),
    }


def _skill_params(schema: dict[str, Any]) -> dict[str, Any]:
    """A skill's parameter schema where each parameter may also be a reference; null means no parameters."""
    schema = {key: value for key, value in schema.items() if key != "$defs"}
    schema["properties"] = {
        name: {"anyOf": [prop, _REF], **({"default": prop["default"]} if "default" in prop else {})}
        for name, prop in schema.get("properties", {}).items()
    }
    schema["additionalProperties"] = False
    if schema.get("required"):
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def tree_schema(registry: SkillRegistry | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a tree file, with one node variant per registered skill."""
    registry = REGISTRY if registry is None else registry
    definitions: dict[str, Any] = {}
    variants: dict[str, dict[str, Any]] = {f"node_{name}": schema for name, schema in _node_types().items()}
    for info in registry:
        params = info.params_schema()
        definitions.update(params.get("$defs", {}))  # pydantic's nested models ("#/$defs/X" stays valid)
        variants[f"skill_{info.name}"] = _node_type(
            info.name, _skill_params(params), f"{info.kind}: {info.description}"
        )
    definitions.update(variants)
    definitions["node"] = {"oneOf": [{"$ref": f"#/$defs/{name}"} for name in variants]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "dexagent skill tree",
        "description": "A behaviour tree of skills (see trees/FORMAT.md).",
        "type": "object",
        "properties": {
            "description": {"type": "string", "description": "one line, shown by `dexagent tree list`"},
            "include": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                "description": "files whose subtrees this file may use (paths relative to this file)",
            },
            "subtrees": {
                "type": "object",
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "additionalProperties": _NODE,
            },
            "tree": _NODE,
        },
        "additionalProperties": False,
        "$defs": definitions,
    }
