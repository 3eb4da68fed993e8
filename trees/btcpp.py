"""Import of BehaviorTree.CPP v4 XML (the Groot2 format) into the same tree model as the YAML files.

Supported: Sequence, ReactiveSequence, SequenceWithMemory, Fallback, ReactiveFallback,
Parallel, RetryUntilSuccessful, Timeout, Inverter, Repeat, SubTree, and skill nodes by
registry name (`<grasp target="{target}"/>`, or v3's `<Action ID="grasp" .../>`) whose
ports become parameters. Anything else is an error naming the element and its line.
The XML is read with expat, which refuses DTDs here, so no entity is ever expanded.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from dexagent.skills.registry import SkillRegistry
from dexagent.trees import model as m
from dexagent.trees.blackboard_check import check_blackboard
from dexagent.trees.errors import NodeFieldError, TreeSyntaxError, UnknownNodeTypeError, UnknownTreeSkillError
from dexagent.trees.loader import check_subtrees
from dexagent.trees.source import MAX_DEPTH, LineMap
from dexagent.trees.yaml_format import NodeParser

CONTROL = {
    "Sequence": ("sequence", True),
    "SequenceWithMemory": ("sequence", True),
    "ReactiveSequence": ("sequence", False),
    "Fallback": ("selector", True),
    "ReactiveFallback": ("selector", False),
}
DECORATORS = ("RetryUntilSuccessful", "Timeout", "Inverter", "Repeat")
SUPPORTED = (*CONTROL, "Parallel", *DECORATORS, "SubTree", "Action", "Condition")
IGNORED_ATTRIBUTES = ("name", "_description", "_uid", "_fullpath")  # Groot2 bookkeeping


@dataclass
class Element:
    """One XML element with the line it starts on."""

    tag: str
    attributes: dict[str, str]
    line: int
    children: list[Element] = field(default_factory=list)


def parse_xml(text: str, path: str) -> Element:
    """The element tree of `text` with line numbers; `TreeSyntaxError` on malformed XML or a DTD."""
    parser = expat.ParserCreate()
    stack: list[Element] = []
    root: list[Element] = []

    def start(tag: str, attributes: dict[str, str]) -> None:
        # <root> and <BehaviorTree> wrap the tree's own levels; deeper would overflow the converter.
        if len(stack) >= MAX_DEPTH + 2:
            message = f"the tree is nested more than {MAX_DEPTH} nodes deep"
            raise TreeSyntaxError(message, path, parser.CurrentLineNumber)
        element = Element(tag, dict(attributes), parser.CurrentLineNumber)
        (stack[-1].children if stack else root).append(element)
        stack.append(element)

    def end(tag: str) -> None:
        stack.pop()

    def doctype(*args: Any) -> None:
        raise TreeSyntaxError("DTDs are not allowed in tree files", path, parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(text, True)
    except expat.ExpatError as error:
        raise TreeSyntaxError(f"invalid XML: {expat.ErrorString(error.code)}", path, error.lineno) from None
    return root[0]


def load_btcpp(path: Path, registry: SkillRegistry) -> m.TreeDocument:
    """Load a BT.CPP v4 XML file: the main tree becomes the root, the other BehaviorTrees its subtrees."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TreeSyntaxError(f"cannot read the file: {error}", path) from None
    return btcpp_document(text, str(path), registry)


def btcpp_document(text: str, path: str, registry: SkillRegistry) -> m.TreeDocument:
    """Convert BT.CPP v4 XML text into a `TreeDocument` (subtree references checked)."""
    root = parse_xml(text, path)
    if root.tag != "root":
        raise TreeSyntaxError(f'expected <root BTCPP_format="4">, got <{root.tag}>', path, root.line)
    version = root.attributes.get("BTCPP_format", "4")
    if version != "4":
        raise NodeFieldError(
            f'only BTCPP_format="4" is supported, got {version!r}', path, root.line, "BTCPP_format"
        )
    trees: dict[str, Element] = {}
    for child in root.children:
        if child.tag == "TreeNodesModel":
            continue  # Groot2's node palette: our registry is the manifest
        if child.tag != "BehaviorTree":
            raise UnknownNodeTypeError(
                f"<{child.tag}> is not allowed under <root> (expected <BehaviorTree ID=...>)",
                path,
                child.line,
            )
        tree_id = child.attributes.get("ID", "")
        if not tree_id.isidentifier():
            raise NodeFieldError(
                f"expected an identifier as tree ID, got {tree_id!r}", path, child.line, "ID"
            )
        if len(child.children) != 1:
            raise TreeSyntaxError(
                f"<BehaviorTree ID={tree_id!r}> must have exactly one root node, has {len(child.children)}",
                path,
                child.line,
            )
        trees[tree_id] = child
    if not trees:
        raise TreeSyntaxError("the file has no <BehaviorTree>", path, root.line)
    main = root.attributes.get("main_tree_to_execute")
    if main is None:
        if len(trees) > 1:
            raise NodeFieldError(
                f"several trees ({', '.join(trees)}): say which one runs with main_tree_to_execute",
                path,
                root.line,
                "main_tree_to_execute",
            )
        main = next(iter(trees))
    if main not in trees:
        raise NodeFieldError(f"no <BehaviorTree ID={main!r}>", path, root.line, "main_tree_to_execute")
    converter = _Converter(path, registry)
    subtrees = {
        tree_id: converter.node(tree.children[0]) for tree_id, tree in trees.items() if tree_id != main
    }
    document = m.TreeDocument(
        root=converter.node(trees[main].children[0]),
        subtrees=subtrees,
        description=trees[main].attributes.get("_description", f"BT.CPP tree {main}"),
        source=path,
    )
    check_subtrees(document)
    check_blackboard(document, registry)
    return document


class _Converter:
    def __init__(self, path: str, registry: SkillRegistry) -> None:
        self.path = path
        self.registry = registry
        self.skills = NodeParser(path, registry)  # skill parameters are checked exactly as in YAML

    def node(self, element: Element) -> m.Node:
        tag = element.tag
        common: dict[str, Any] = {"at": m.Location(file=self.path, line=element.line)}
        if "name" in element.attributes:
            common["name"] = element.attributes["name"]
        if tag in ("Action", "Condition"):
            tag = self._attribute(element, "ID")
        if tag in CONTROL:
            kind, memory = CONTROL[tag]
            self._only(element, ())
            cls = m.SequenceNode if kind == "sequence" else m.SelectorNode
            return cls(children=self._children(element), memory=memory, **common)
        if tag == "Parallel":
            return self._parallel(element, common)
        if tag in DECORATORS:
            return self._decorator(element, tag, common)
        if tag == "SubTree":
            tree_id = self._attribute(element, "ID")
            self._only(element, ("ID", "_autoremap"), "our subtrees share the blackboard: port remapping")
            if element.children:
                raise TreeSyntaxError("<SubTree> takes no children", self.path, element.line)
            return m.SubtreeNode(subtree=tree_id, **common)
        if tag in self.registry:
            return self._skill(element, tag, common)
        close = difflib.get_close_matches(tag, [*self.registry.names(), *SUPPORTED], n=2, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        error = UnknownTreeSkillError if close and close[0] in self.registry else UnknownNodeTypeError
        raise error(
            f"<{tag}> is neither a supported BT.CPP node ({', '.join(SUPPORTED)}) "
            f"nor a registered skill{hint}",
            self.path,
            element.line,
            tag,
        )

    def _children(self, element: Element) -> tuple[m.Node, ...]:
        if not element.children:
            raise TreeSyntaxError(f"<{element.tag}> needs at least one child", self.path, element.line)
        return tuple(self.node(child) for child in element.children)

    def _child(self, element: Element) -> m.Node:
        if len(element.children) != 1:
            raise TreeSyntaxError(
                f"<{element.tag}> is a decorator: it needs exactly one child, has {len(element.children)}",
                self.path,
                element.line,
            )
        return self.node(element.children[0])

    def _parallel(self, element: Element, common: dict[str, Any]) -> m.ParallelNode:
        self._only(element, ("success_count", "failure_count"))
        children = self._children(element)
        success = self._int(element, "success_count", default=-1, minimum=-1)
        failure = self._int(element, "failure_count", default=1, minimum=-1)
        if failure != 1:
            raise NodeFieldError(
                'only failure_count="1" is supported (the parallel fails when any child fails)',
                self.path,
                element.line,
                "failure_count",
            )
        if success in (-1, len(children)):
            policy = "success_on_all"
        elif success == 1:
            policy = "success_on_one"
        else:
            raise NodeFieldError(
                f"success_count must be -1 (all), {len(children)} (all) or 1 (one), got {success}",
                self.path,
                element.line,
                "success_count",
            )
        return m.ParallelNode(children=children, policy=policy, **common)

    def _decorator(self, element: Element, tag: str, common: dict[str, Any]) -> m.Node:
        if tag == "RetryUntilSuccessful":
            self._only(element, ("num_attempts",))
            attempts = self._int(element, "num_attempts", minimum=1)
            return m.RetryNode(child=self._child(element), attempts=attempts, **common)
        if tag == "Timeout":
            self._only(element, ("msec",))
            msec = self._int(element, "msec", minimum=1)
            return m.TimeoutNode(child=self._child(element), seconds=msec / 1000.0, **common)
        if tag == "Inverter":
            self._only(element, ())
            return m.InverterNode(child=self._child(element), **common)
        self._only(element, ("num_cycles",))
        cycles = self._int(element, "num_cycles", minimum=1)  # -1 (forever until failure) has no equivalent
        return m.RepeatNode(child=self._child(element), times=cycles, **common)

    def _skill(self, element: Element, skill: str, common: dict[str, Any]) -> m.SkillNode:
        if element.children:
            raise TreeSyntaxError(f"skill <{skill}> takes no children", self.path, element.line)
        params = LineMap(element.line)
        for key, value in element.attributes.items():
            if key in ("ID", *IGNORED_ATTRIBUTES):
                continue
            params[key] = value  # ports are strings; pydantic's lax mode reads "3" as 3 and "true" as True
            params.key_lines[key] = element.line
        node = self.skills.node(_as_yaml_node(skill, params, element.line), element.line)
        assert isinstance(node, m.SkillNode)
        return node.model_copy(update=common)

    def _attribute(self, element: Element, name: str) -> str:
        value = element.attributes.get(name)
        if not value:
            raise NodeFieldError(f"<{element.tag}> needs the attribute {name}", self.path, element.line, name)
        return value

    def _only(self, element: Element, allowed: tuple[str, ...], unsupported: str = "") -> None:
        for key in element.attributes:
            if key not in allowed and key not in IGNORED_ATTRIBUTES:
                what = (
                    f"{unsupported} is not supported"
                    if unsupported
                    else f"<{element.tag}> has no port {key!r}"
                )
                raise NodeFieldError(
                    f"{what} (allowed: {', '.join(allowed) or 'none'})", self.path, element.line, key
                )

    def _int(self, element: Element, name: str, minimum: int, default: int | None = None) -> int:
        raw = element.attributes.get(name)
        if raw is None:
            if default is None:
                raise NodeFieldError(f"<{element.tag}> needs {name}", self.path, element.line, name)
            return default
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum or (value == 0 and minimum == -1):
            raise NodeFieldError(
                f"expected an integer >= {minimum}, got {raw!r}", self.path, element.line, name
            )
        return value


def _as_yaml_node(skill: str, params: LineMap, line: int) -> LineMap:
    """`{skill: params}` as the YAML grammar sees it, so XML skills are validated by the same code."""
    node = LineMap(line)
    node[skill] = params
    node.key_lines[skill] = line
    return node
