"""Tree model -> py_trees behaviours. Skills come from the registry; subtrees are expanded in place."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import py_trees
from py_trees.common import ParallelPolicy

from dexagent.skills.registry import REGISTRY, SkillRegistry
from dexagent.trees import model as m
from dexagent.trees.composites import Recovery, RoundRobin
from dexagent.trees.decorators import Clock, ForEach, Repeat, Timeout
from dexagent.trees.display import node_label

if TYPE_CHECKING:
    from dexagent.skills.context import SkillContext


def build_behaviour(
    document: m.TreeDocument,
    context: SkillContext,
    registry: SkillRegistry | None = None,
    clock: Clock | None = None,
) -> py_trees.behaviour.Behaviour:
    """The root behaviour of `document`; skills get `context`, timeouts read `clock` (else context.clock)."""
    registry = REGISTRY if registry is None else registry
    clock = clock or getattr(context, "clock", None) or time.monotonic
    return _Builder(document, context, registry, clock).build(document.root)


def build_tree(
    document: m.TreeDocument,
    context: SkillContext,
    registry: SkillRegistry | None = None,
    clock: Clock | None = None,
) -> py_trees.trees.BehaviourTree:
    """`build_behaviour` wrapped in a py_trees BehaviourTree, ready for `setup()` and `tick()`."""
    return py_trees.trees.BehaviourTree(build_behaviour(document, context, registry, clock))


class _Builder:
    def __init__(
        self, document: m.TreeDocument, context: SkillContext, registry: SkillRegistry, clock: Clock
    ):
        self.document = document
        self.context = context
        self.registry = registry
        self.clock = clock

    def build(self, node: m.Node) -> py_trees.behaviour.Behaviour:
        name = node_label(node)
        if isinstance(node, m.SkillNode):
            return self.registry.get(node.skill).build(name, node.params, self.context)
        if isinstance(node, m.SubtreeNode):
            # A fresh instance per reference (a behaviour has one parent); PassThrough keeps the
            # subtree's boundary visible in the live view without changing any status.
            return py_trees.decorators.PassThrough(name, self.build(self.document.subtrees[node.subtree]))
        children = [self.build(child) for child in m.children_of(node)]
        if isinstance(node, m.SequenceNode):
            return py_trees.composites.Sequence(name, memory=node.memory, children=children)
        if isinstance(node, m.SelectorNode):
            return py_trees.composites.Selector(name, memory=node.memory, children=children)
        if isinstance(node, m.ParallelNode):
            policy = (
                ParallelPolicy.SuccessOnAll(synchronise=True)
                if node.policy == "success_on_all"
                else ParallelPolicy.SuccessOnOne()
            )
            return py_trees.composites.Parallel(name, policy=policy, children=children)
        if isinstance(node, m.RoundRobinNode):
            return RoundRobin(name, children)
        if isinstance(node, m.RecoveryNode):
            return Recovery(name, children[0], children[1], node.retries)
        child = children[0]
        if isinstance(node, m.RetryNode):
            return py_trees.decorators.Retry(name, child, num_failures=node.attempts)
        if isinstance(node, m.TimeoutNode):
            return Timeout(name, child, node.seconds, self.clock)
        if isinstance(node, m.InverterNode):
            return py_trees.decorators.Inverter(name, child)
        if isinstance(node, m.RepeatNode):
            return Repeat(name, child, times=node.times, until=node.until)
        if isinstance(node, m.ForEachNode):
            namespace = getattr(self.context, "namespace", "")
            return ForEach(name, child, node.items, node.as_key, node.on_failure, namespace)
        raise TypeError(
            f"no builder for node type {type(node).__name__}"
        )  # a new model type without a branch
