"""Declarative skill trees: the YAML format (FORMAT.md), loader, bundled trees, builder, extra composites.

document = load_tree("clear_table")            # or a .yaml / BT.CPP .xml path
tree = build_tree(document, context)           # a py_trees BehaviourTree of skills
"""

# The names below load on first use (PEP 562): `dexagent tree list` reads the bundled files
# without importing py_trees and the skills.
from typing import TYPE_CHECKING

from dexagent.hardware.lazy_exports import lazy_exports

_EXPORTS = {
    "build_behaviour": "dexagent.trees.builder",
    "build_tree": "dexagent.trees.builder",
    "TreeError": "dexagent.trees.errors",
    "bundled_names": "dexagent.trees.library",
    "bundled_trees": "dexagent.trees.library",
    "resolve_tree": "dexagent.trees.library",
    "load_tree": "dexagent.trees.loader",
    "load_tree_text": "dexagent.trees.loader",
    "TreeDocument": "dexagent.trees.model",
}

if TYPE_CHECKING:
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


__getattr__ = lazy_exports(globals(), _EXPORTS)
