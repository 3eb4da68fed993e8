"""Load-time check of the blackboard: every key a tree reads is written by someone.

Writers are the agent (the run's inputs, `skills.blackboard_keys.RUN_INPUTS`), the skills
in the tree (each declares its `writes` in the registry) and `for_each ... as:`. Readers
are "{key}" parameters, `for_each items:` and the keys skills declare they read. A key
that nothing writes would fail only when its node starts, minutes into a run; here it is a
`BadReferenceError` at its file and line.
"""

from __future__ import annotations

from dexagent.skills.blackboard_keys import RUN_INPUTS
from dexagent.skills.params import BlackboardRef
from dexagent.skills.registry import SkillRegistry
from dexagent.trees import model as m
from dexagent.trees.errors import BadReferenceError


def _root(key: str) -> str:
    """The stored key a reference reads ("/instruction.target" reads "instruction")."""
    return key.lstrip("/").split(".")[0]


def _written(key: str, writers: set[str]) -> bool:
    name = _root(key)
    return any(name == writer or name.startswith(writer + "/") for writer in writers)


def check_blackboard(document: m.TreeDocument, registry: SkillRegistry) -> None:
    """`BadReferenceError` for the first key the tree reads that neither the agent nor the tree writes."""
    writers = set(RUN_INPUTS)
    reads: list[tuple[str, m.Node, str]] = []  # key, reading node, field
    nodes: list[m.Node] = [document.root, *document.subtrees.values()]
    while nodes:
        node = nodes.pop()
        nodes.extend(m.children_of(node))
        if isinstance(node, m.ForEachNode):
            writers.add(_root(node.as_key))
            if isinstance(node.items, BlackboardRef):
                reads.append((node.items.key, node, "items"))
        if isinstance(node, m.SkillNode) and node.skill in registry:
            info = registry.get(node.skill)
            writers.update(_root(key) for key in info.writes)
            reads.extend((key, node, node.skill) for key in info.reads)
            reads.extend(
                (value.key, node, field)
                for field, value in node.params.items()
                if isinstance(value, BlackboardRef)
            )
    for key, node, field in sorted(reads, key=lambda read: read[1].at.line if read[1].at else 0):
        if not _written(key, writers):
            at = node.at
            raise BadReferenceError(
                f"reads the blackboard key {key!r}, which nothing writes: not the agent "
                f"({', '.join(RUN_INPUTS)}), no skill of this tree and no for_each `as:`",
                at.file if at else document.source,
                at.line if at else None,
                field,
            )
