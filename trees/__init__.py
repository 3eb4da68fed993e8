"""Declarative skill trees: the YAML format (FORMAT.md), loader, bundled trees, builder, extra composites.

document = load_tree("clear_table")            # or a .yaml / BT.CPP .xml path
tree = build_tree(document, context)           # a py_trees BehaviourTree of skills
"""

from dexagent.trees.builder import build_behaviour, build_tree
from dexagent.trees.errors import TreeError
from dexagent.trees.library import bundled_names, bundled_trees, resolve_tree
from dexagent.trees.loader import load_tree, load_tree_text
from dexagent.trees.model import TreeDocument

__all__ = [
    "TreeDocument",
    "TreeError",
    "build_behaviour",
    "build_tree",
    "bundled_names",
    "bundled_trees",
    "load_tree",
    "load_tree_text",
    "resolve_tree",
]
