"""The YAML node grammar (trees/FORMAT.md): one mapping per node -> a `model` node.

A node is a mapping with exactly one *type key* (a composite, a decorator, `recovery`,
`subtree`, or a registered skill's name) plus that type's options and an optional
`name`. The type key's value is the node's body: a list of children for composites,
one child for decorators, `{try: ..., recover: ...}` for recovery, the parameters for
a skill and the subtree's name for `subtree`.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from dexagent.skills.errors import SkillParamError
from dexagent.skills.params import BlackboardRef, params_model, parse_ref, validate_static
from dexagent.skills.registry import SkillRegistry
from dexagent.trees import model as m
from dexagent.trees.errors import (
    BadReferenceError,
    NodeFieldError,
    SkillParamsError,
    TreeSyntaxError,
    UnknownNodeTypeError,
    UnknownTreeSkillError,
)
from dexagent.trees.options import OptionReader
from dexagent.trees.source import MAX_DEPTH, LineList, LineMap, quote

# The options each node type accepts besides `name` (skills take none: their body holds the params).
OPTIONS: dict[str, tuple[str, ...]] = {
    "sequence": ("memory",),
    "selector": ("memory",),
    "parallel": ("policy",),
    "round_robin": (),
    "recovery": ("retries",),
    "retry": ("attempts",),
    "timeout": ("seconds",),
    "inverter": (),
    "repeat": ("times", "until"),
    "for_each": ("items", "as", "on_failure"),
    "subtree": (),
}
_ANY_OPTION = {option for options in OPTIONS.values() for option in options} | {"name"}
# Something that was meant as a reference: braces around anything.
_REF_LIKE = re.compile(r"\{[^{}]*\}|^\s*\{|\}\s*$")
MAX_NODES = 5_000  # per file; YAML aliases can make a few lines stand for millions of nodes


class NodeParser(OptionReader):
    """Turns the YAML value of one node (with line numbers) into a model node, checking skills."""

    def __init__(self, path: str, registry: SkillRegistry) -> None:
        super().__init__(path)
        self.registry = registry
        self.count = 0
        self.depth = 0

    def node(self, raw: Any, line: int) -> m.Node:
        """Parse one node; `line` is where it was written (used when `raw` carries no line)."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise TreeSyntaxError(f"the tree is nested more than {MAX_DEPTH} nodes deep", self.path, line)
            return self._node(raw, line)
        finally:
            self.depth -= 1

    def _node(self, raw: Any, line: int) -> m.Node:
        self.count += 1
        if self.count > MAX_NODES:
            raise TreeSyntaxError(
                f"the tree has more than {MAX_NODES} nodes (YAML aliases?)", self.path, line
            )
        if not isinstance(raw, LineMap):
            shown = "nothing" if raw is None else quote(raw)
            raise TreeSyntaxError(
                "expected a node (a mapping such as `grasp: {target: cup}` or `sequence: [...]`), "
                f"got {shown}",
                self.path,
                line,
            )
        kind = self._type_key(raw)
        allowed = OPTIONS.get(kind, ())
        for key in raw:
            if key != kind and key != "name" and key not in allowed:
                expected = ", ".join(("name", *allowed))
                what = f"{kind}" if kind in OPTIONS else f"skill {kind!r} (its parameters go under `{kind}:`)"
                raise NodeFieldError(
                    f"unknown option for {what} (allowed here: {expected})",
                    self.path,
                    raw.line_of(key),
                    str(key),
                )
        common: dict[str, Any] = {"at": m.Location(file=self.path, line=raw.line_of(kind))}
        if "name" in raw:
            common["name"] = self._string(raw, "name")
        body = raw[kind]
        body_line = raw.line_of(kind)
        if kind in ("sequence", "selector", "parallel", "round_robin"):
            children = self._children(body, body_line, kind)
            if kind == "parallel":
                policy = self._choice(raw, "policy", ("success_on_all", "success_on_one"), "success_on_all")
                return m.ParallelNode(children=children, policy=policy, **common)
            if kind == "round_robin":
                return m.RoundRobinNode(children=children, **common)
            memory = self._bool(raw, "memory", True)
            cls = m.SequenceNode if kind == "sequence" else m.SelectorNode
            return cls(children=children, memory=memory, **common)
        if kind == "recovery":
            return self._recovery(raw, body, body_line, common)
        if kind == "subtree":
            if not isinstance(body, str) or not body.isidentifier():
                raise NodeFieldError(
                    f"expected the name of a subtree (an identifier), got {quote(body)}",
                    self.path,
                    body_line,
                    "subtree",
                )
            return m.SubtreeNode(subtree=body, **common)
        if kind in m.DECORATORS:
            return self._decorator(kind, raw, self.node(body, body_line), common)
        return self._skill(kind, body, body_line, common)

    def _type_key(self, raw: LineMap) -> str:
        kinds = [key for key in raw if key in OPTIONS or (isinstance(key, str) and key in self.registry)]
        if len(kinds) == 1:
            return str(kinds[0])
        if len(kinds) > 1:
            raise TreeSyntaxError(
                f"a node has exactly one type, found {' and '.join(repr(k) for k in kinds)} "
                "(to run several nodes, put them in a `sequence:` list)",
                self.path,
                raw.line_of(kinds[1]),
                str(kinds[1]),
            )
        unknown = [key for key in raw if key not in _ANY_OPTION]
        if not unknown:
            raise TreeSyntaxError(
                f"this node has options ({', '.join(map(str, raw))}) but no type: expected one of "
                f"{', '.join(OPTIONS)} or a skill ({', '.join(self.registry.names()) or 'none registered'})",
                self.path,
                raw.line,
            )
        key = unknown[0]
        line = raw.line_of(key)
        skills = difflib.get_close_matches(str(key), self.registry.names(), n=3, cutoff=0.6)
        if skills:
            raise UnknownTreeSkillError(
                f"unknown skill {quote(key)}; did you mean {', '.join(repr(s) for s in skills)}?",
                self.path,
                line,
                str(key),
            )
        types = difflib.get_close_matches(str(key), list(OPTIONS), n=2, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(t) for t in types)}?" if types else ""
        raise UnknownNodeTypeError(
            f"unknown node type or skill {quote(key)}{hint} (node types: {', '.join(OPTIONS)}; "
            f"skills: {', '.join(self.registry.names()) or 'none registered'})",
            self.path,
            line,
            str(key),
        )

    def _children(self, body: Any, line: int, kind: str) -> tuple[m.Node, ...]:
        if not isinstance(body, LineList) or not body:
            raise NodeFieldError(f"a {kind} needs a non-empty list of child nodes", self.path, line, kind)
        return tuple(
            self.node(child, child_line) for child, child_line in zip(body, body.item_lines, strict=True)
        )

    def _recovery(self, raw: LineMap, body: Any, line: int, common: dict[str, Any]) -> m.RecoveryNode:
        if not isinstance(body, LineMap) or set(body) != {"try", "recover"}:
            got = sorted(map(str, body)) if isinstance(body, LineMap) else repr(body)
            raise NodeFieldError(
                f"expected a mapping with exactly `try:` (the node to run) and `recover:` "
                f"(the node to run after it fails), got {got}",
                self.path,
                line,
                "recovery",
            )
        retries = self._int(raw, "retries", "recovery", default=1)
        return m.RecoveryNode(
            child=self.node(body["try"], body.line_of("try")),
            recover=self.node(body["recover"], body.line_of("recover")),
            retries=retries,
            **common,
        )

    def _decorator(self, kind: str, raw: LineMap, child: m.Node, common: dict[str, Any]) -> m.Node:
        if kind == "retry":
            return m.RetryNode(child=child, attempts=self._int(raw, "attempts", "retry"), **common)
        if kind == "timeout":
            return m.TimeoutNode(child=child, seconds=self._positive_float(raw, "seconds"), **common)
        if kind == "inverter":
            return m.InverterNode(child=child, **common)
        if kind == "repeat":
            if ("times" in raw) == ("until" in raw):
                raise NodeFieldError(
                    "repeat needs exactly one of `times: N` or `until: failure|success`",
                    self.path,
                    raw.line_of("repeat"),
                    "repeat",
                )
            if "times" in raw:
                return m.RepeatNode(child=child, times=self._int(raw, "times", "repeat"), **common)
            until = self._choice(raw, "until", ("failure", "success"), None)
            return m.RepeatNode(child=child, until=until, **common)
        items = self._items(raw)
        as_key = self._key(raw, "as")
        on_failure = self._choice(raw, "on_failure", ("stop", "continue"), "stop")
        return m.ForEachNode(child=child, items=items, as_key=as_key, on_failure=on_failure, **common)

    def _skill(self, skill: str, body: Any, line: int, common: dict[str, Any]) -> m.SkillNode:
        if body is None:
            body = LineMap(line)
        if not isinstance(body, LineMap):
            raise SkillParamsError(
                f"the parameters of skill {skill!r} must be a mapping such as `{skill}: {{name: value}}`, "
                f"got {quote(body)}",
                self.path,
                line,
                skill,
            )
        params: dict[str, Any] = {}
        for key, value in body.items():
            params[str(key)] = self._param(value, body.line_of(key), str(key))
        info = self.registry.get(skill)
        try:
            validate_static(info, params)
        except SkillParamError as error:
            field, problem = error.problems[0]
            top = field.split(".")[0]
            if problem == "Field required":
                fields = params_model(info.params).model_fields
                annotation = fields[top].annotation if top in fields else None
                expected = f" ({getattr(annotation, '__name__', annotation)})" if annotation else ""
                problem = f"skill {skill!r} needs parameter {top!r}{expected}; it is missing"
            elif top in params:
                problem = f"skill {skill!r}: {problem}, got {quote(params[top])}"
            else:
                problem = f"skill {skill!r}: {problem}"
            raise SkillParamsError(problem, self.path, body.line_of(top), top) from None
        return m.SkillNode(skill=skill, params=params, **common)

    def _param(self, value: Any, line: int, field: str) -> Any:
        """A literal, or a `BlackboardRef` for "{key}"; malformed references are errors, not literals."""
        if isinstance(value, LineMap) and len(value) == 1 and next(iter(value.values())) is None:
            # `target: {target}` without quotes is YAML for the mapping {"target": None}
            key = next(iter(value))
            raise BadReferenceError(
                f'a blackboard reference must be quoted: write "{{{key}}}" '
                f"(unquoted {{{key}}} is a YAML mapping)",
                self.path,
                line,
                field,
            )
        if isinstance(value, str):
            ref = parse_ref(value)
            if ref is not None:
                return ref
            if _REF_LIKE.search(value):
                raise BadReferenceError(
                    f"malformed blackboard reference {quote(value)}: write the whole value as " + '"{key}", '
                    "the key made of letters, digits and _ (segments joined by / or .)",
                    self.path,
                    line,
                    field,
                )
        return value

    def _items(self, raw: LineMap) -> BlackboardRef | tuple[Any, ...]:
        if "items" not in raw:
            raise NodeFieldError(
                'for_each needs `items:` (a "{key}" reference to a blackboard list, or a literal list)',
                self.path,
                raw.line,
                "items",
            )
        value = raw["items"]
        if isinstance(value, LineList):
            return tuple(value)
        ref = self._param(value, raw.line_of("items"), "items")
        if not isinstance(ref, BlackboardRef):
            raise self._fail(raw, "items", 'a "{key}" reference to a blackboard list, or a literal list')
        return ref
