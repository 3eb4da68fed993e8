"""What goes wrong when a tree file is read: every error names the file, the line and the field.

Messages read like a compiler's: `path/to/tree.yaml:12: field 'attempts': expected an
integer >= 1, got 'three'`, so an editor can jump to the spot and the user knows the fix.
"""

from __future__ import annotations

from pathlib import Path


class TreeError(ValueError):
    """Base class: a tree file (YAML or BT.CPP XML) is wrong. Carries `path`, `line` (1-based) and `field`."""

    def __init__(
        self, message: str, path: str | Path | None = None, line: int | None = None, field: str = ""
    ):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        what = f"field {self.field!r}: " if self.field else ""
        if self.path is None and self.line is None:
            return f"{what}{self.message}"
        where = self.path or "<tree>"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {what}{self.message}"


class TreeSyntaxError(TreeError):
    """The file is not valid YAML/XML, or is not shaped like a tree file at all."""


class UnknownNodeTypeError(TreeError):
    """A node's type key is neither a node type of the format nor a registered skill."""


class UnknownTreeSkillError(TreeError):
    """A node names a skill the registry does not know (the message suggests close names)."""


class SkillParamsError(TreeError):
    """A skill's parameters are missing, unknown or of the wrong type."""


class NodeFieldError(TreeError):
    """A node option (attempts, seconds, memory, policy, ...) is missing, unknown or of the wrong type."""


class BadReferenceError(TreeError):
    """A malformed "{key}" blackboard reference, or a `subtree:` / include that does not exist."""


class TreeCycleError(TreeError):
    """Includes or subtrees refer back to themselves (the message shows the chain)."""


class UnknownTreeError(TreeError):
    """A tree name that is neither a file nor a bundled tree."""


class RenderError(RuntimeError):
    """A tree could not be drawn (unsupported output format, or graphviz's `dot` is missing or failed)."""
