"""The tree model: what a tree file means, independent of its syntax (YAML or BT.CPP XML).

Every node is a frozen pydantic value with a `type` discriminator, an optional display
`name`, and `at` (file and line it came from) so later stages can still point at the source.
Skill parameters keep "{key}" references as `BlackboardRef`s; they are resolved only when
the skill starts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dexagent.skills.params import BlackboardRef


class Location(BaseModel):
    """Where a node was written: file path and 1-based line."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str | None = None
    at: Location | None = Field(default=None, exclude=True, repr=False)


class SequenceNode(_Node):
    """Children in order; fails at the first failure. `memory=False` re-checks earlier children every tick."""

    type: Literal["sequence"] = "sequence"
    children: tuple[Node, ...]
    memory: bool = True


class SelectorNode(_Node):
    """Children in order until one succeeds (a fallback). `memory=False` re-checks earlier children."""

    type: Literal["selector"] = "selector"
    children: tuple[Node, ...]
    memory: bool = True


class ParallelNode(_Node):
    """All children every tick; succeeds when all (or one) succeed, fails when any fails."""

    type: Literal["parallel"] = "parallel"
    children: tuple[Node, ...]
    policy: Literal["success_on_all", "success_on_one"] = "success_on_all"


class RoundRobinNode(_Node):
    """A selector that starts where it left off: after a success, the next activation tries the next."""

    type: Literal["round_robin"] = "round_robin"
    children: tuple[Node, ...]


class RecoveryNode(_Node):
    """Nav2-style: run `child`; on failure run `recover` and, if that succeeds, run `child` again."""

    type: Literal["recovery"] = "recovery"
    child: Node
    recover: Node
    retries: int = Field(default=1, ge=1)


class RetryNode(_Node):
    """Run `child` up to `attempts` times until it succeeds."""

    type: Literal["retry"] = "retry"
    child: Node
    attempts: int = Field(ge=1)


class TimeoutNode(_Node):
    """Fail (and stop `child`) when it runs longer than `seconds` on the tree's clock."""

    type: Literal["timeout"] = "timeout"
    child: Node
    seconds: float = Field(gt=0)


class InverterNode(_Node):
    """Success becomes failure and failure success."""

    type: Literal["inverter"] = "inverter"
    child: Node


class RepeatNode(_Node):
    """Run `child` `times` times (failing on its failure), or `until` it fails / succeeds."""

    type: Literal["repeat"] = "repeat"
    child: Node
    times: int | None = Field(default=None, ge=1)
    until: Literal["failure", "success"] | None = None


class ForEachNode(_Node):
    """Run `child` once per item of a list, writing the item to the blackboard key `as_key` first."""

    type: Literal["for_each"] = "for_each"
    child: Node
    items: BlackboardRef | tuple[Any, ...]
    as_key: str
    on_failure: Literal["stop", "continue"] = "stop"


class SkillNode(_Node):
    """A registered skill with its parameters (literals or `BlackboardRef`s)."""

    type: Literal["skill"] = "skill"
    skill: str
    params: dict[str, Any] = Field(default_factory=dict)


class SubtreeNode(_Node):
    """A reference to a named subtree of the same document (or of an included file)."""

    type: Literal["subtree"] = "subtree"
    subtree: str


Node = Annotated[
    SequenceNode
    | SelectorNode
    | ParallelNode
    | RoundRobinNode
    | RecoveryNode
    | RetryNode
    | TimeoutNode
    | InverterNode
    | RepeatNode
    | ForEachNode
    | SkillNode
    | SubtreeNode,
    Field(discriminator="type"),
]

COMPOSITES = ("sequence", "selector", "parallel", "round_robin")
DECORATORS = ("retry", "timeout", "inverter", "repeat", "for_each")
NODE_TYPES = (*COMPOSITES, "recovery", *DECORATORS, "subtree")


class TreeDocument(BaseModel):
    """A loaded tree file: root node, every subtree it can use (includes merged), its description."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    root: Node
    subtrees: dict[str, Node] = Field(default_factory=dict)
    description: str = ""
    source: str = "<tree>"


def children_of(node: Node) -> list[Node]:
    """The direct children of `node` in tick order (the recovery branch after the child)."""
    if isinstance(node, SequenceNode | SelectorNode | ParallelNode | RoundRobinNode):
        return list(node.children)
    if isinstance(node, RecoveryNode):
        return [node.child, node.recover]
    if isinstance(node, RetryNode | TimeoutNode | InverterNode | RepeatNode | ForEachNode):
        return [node.child]
    return []


# The node classes refer to `Node` before it exists; resolve those forward references now.
_MODELS: tuple[type[BaseModel], ...] = (
    SequenceNode,
    SelectorNode,
    ParallelNode,
    RoundRobinNode,
    RecoveryNode,
    RetryNode,
    TimeoutNode,
    InverterNode,
    RepeatNode,
    ForEachNode,
    TreeDocument,
)
for _model in _MODELS:
    _model.model_rebuild()
