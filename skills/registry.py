"""The skill registry: the one place that maps a skill name to its parameters and implementation.

Tree files are validated against it and `dexagent skills` is generated from it
(BehaviorTree.CPP's manifest idea): adding a skill means registering it here and nowhere
else, either by the `skills.base.skill` class decorator or, so that listing it imports
no behaviour (py_trees, numpy), as a `SkillInfo` whose factory is a "module:Class" path
(the bundled skills: `skills/bundled.py`). A controller-driven skill (grasp,
push_then_grasp) is registered once, as a spec in `controller/skill_spec.py`: its leaf
appears here (`skills/bundled.py`) and the planner's skills come from the same spec.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from dexagent.hardware.plugins import load_object
from dexagent.skills import blackboard_keys as keys
from dexagent.skills.errors import SkillError, UnknownSkillError
from dexagent.skills.param_fields import ParamRow, param_rows
from dexagent.skills.params import REF_PATTERN

if TYPE_CHECKING:
    import py_trees

    from dexagent.skills.context import SkillContext

SkillKind = Literal["action", "condition"]
# factory(node_name, raw_params, context): raw_params may still hold "{key}" blackboard references,
# which the behaviour resolves when it starts (the values exist only at run time).
SkillFactory = Callable[[str, Mapping[str, Any], "SkillContext"], "py_trees.behaviour.Behaviour"]


@dataclass(frozen=True)
class SkillInfo:
    """Everything known about one skill: its name, one-line description, kind, parameters, factory."""

    name: str
    description: str
    kind: SkillKind
    # A dataclass of `param()` fields (listed without pydantic) or a pydantic model.
    params: type
    # The factory, or its "module:attribute" path: imported when the first leaf is built, so listing
    # the skills (`dexagent skills`, the tree schema) imports no behaviour, py_trees or numpy.
    factory: SkillFactory | str
    # Blackboard keys the skill reads (besides its "{key}" parameters) and writes: the manifest
    # `dexagent tree validate` checks a tree against (a key read that nothing writes is an error).
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise SkillError(f"skill name {self.name!r} must be an identifier (letters, digits, _)")
        if not self.description or "\n" in self.description:
            raise SkillError(f"skill {self.name!r} needs a one-line description")
        if self.kind not in ("action", "condition"):
            raise SkillError(f"skill {self.name!r}: kind must be 'action' or 'condition', not {self.kind!r}")
        if not (dataclasses.is_dataclass(self.params) or hasattr(self.params, "model_json_schema")):
            raise SkillError(
                f"skill {self.name!r}: params must be a dataclass of param() fields or a pydantic model, "
                f"not {self.params!r}"
            )

    def build(
        self, node_name: str, raw_params: Mapping[str, Any], context: SkillContext
    ) -> py_trees.behaviour.Behaviour:
        """A new behaviour for this skill (parameters are validated statically first)."""
        from dexagent.skills.params import validate_static

        validate_static(self, raw_params)
        return self.load_factory()(node_name, raw_params, context)

    def load_factory(self) -> SkillFactory:
        """The factory, its module imported now when it was given as a path."""
        if isinstance(self.factory, str):
            factory: SkillFactory = load_object(self.factory)
            return factory
        return self.factory

    def params_schema(self) -> dict[str, Any]:
        """The JSON schema of the parameters (pydantic's, from the model that checks them)."""
        from dexagent.skills.params import params_model

        return params_model(self.params).model_json_schema()

    def param_rows(self) -> list[ParamRow]:
        """The parameters as the listing shows them (a dataclass's without importing pydantic)."""
        return param_rows(self.params)

    def param_names(self) -> list[str]:
        """The parameters' names, in declaration order."""
        if dataclasses.is_dataclass(self.params):
            return [field.name for field in dataclasses.fields(self.params)]
        return list(self.params.model_fields)  # type: ignore[attr-defined]  # a pydantic model


class SkillRegistry:
    """Skills by name. Iterating yields `SkillInfo` in registration order."""

    def __init__(self) -> None:
        self._skills: dict[str, SkillInfo] = {}

    def register(self, info: SkillInfo) -> SkillInfo:
        """Add a skill; a second skill with the same name is an error."""
        if info.name in self._skills:
            raise SkillError(f"skill {info.name!r} is already registered")
        self._skills[info.name] = info
        return info

    def declare(
        self,
        name: str,
        description: str,
        params: type,
        factory: SkillFactory | str,
        kind: SkillKind = "action",
        *,
        reads: tuple[str, ...] = (),
        writes: tuple[str, ...] = (),
    ) -> SkillInfo:
        """Register the skill `name` with the blackboard keys it reads and writes (every skill also
        writes `failure_reason` when it fails); `factory` may be a "module:Class" path."""
        keys_written = tuple(dict.fromkeys((*writes, keys.FAILURE_REASON)))
        return self.register(SkillInfo(name, description, kind, params, factory, reads, keys_written))

    def unregister(self, name: str) -> None:
        """Take the skill called `name` away again (`UnknownSkillError` when there is none)."""
        self.get(name)
        del self._skills[name]

    def get(self, name: str) -> SkillInfo:
        """The skill called `name`, or `UnknownSkillError` with close matches."""
        try:
            return self._skills[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._skills), n=3, cutoff=0.6)
            raise UnknownSkillError(name, close, self.names()) from None

    def __contains__(self, name: object) -> bool:
        return name in self._skills

    def __iter__(self) -> Iterator[SkillInfo]:
        return iter(self._skills.values())

    def __len__(self) -> int:
        return len(self._skills)

    def names(self) -> list[str]:
        """Registered skill names, in registration order."""
        return list(self._skills)

    def manifest(self) -> list[dict[str, Any]]:
        """One entry per skill: name, kind, description, the parameters' JSON schema and the blackboard
        keys it reads and writes."""
        return [
            {
                "name": s.name,
                "kind": s.kind,
                "description": s.description,
                "params": s.params_schema(),
                "reads": list(s.reads),
                "writes": list(s.writes),
            }
            for s in self._skills.values()
        ]

    def json_schema(self, allow_refs: bool = True) -> dict[str, Any]:
        """A JSON schema for one skill node `{skill: NAME, params: {...}}`, for editors and the planner.

        With `allow_refs`, every parameter may also be a "{key}" blackboard reference string.
        """
        variants = []
        for info in self._skills.values():
            params = _with_refs(info.params_schema()) if allow_refs else info.params_schema()
            variants.append(
                {
                    "type": "object",
                    "title": info.name,
                    "description": info.description,
                    "properties": {"skill": {"const": info.name}, "params": params},
                    "required": ["skill"],
                    "additionalProperties": False,
                }
            )
        return {"$schema": "https://json-schema.org/draft/2020-12/schema", "oneOf": variants}


def _with_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with each property also accepting a blackboard reference string."""
    schema = dict(schema)
    ref = {"type": "string", "pattern": REF_PATTERN.pattern, "description": "a {key} blackboard reference"}
    schema["properties"] = {
        name: {"anyOf": [prop, ref], **({"default": prop["default"]} if "default" in prop else {})}
        for name, prop in schema.get("properties", {}).items()
    }
    return schema


REGISTRY = SkillRegistry()
