"""The bundled trees (trees/library/*.yaml) by name, and turning `NAME|PATH` into a file path."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from dexagent.trees.errors import UnknownTreeError

LIBRARY = Path(__file__).resolve().parent / "library"
TREE_SUFFIXES = (".yaml", ".yml", ".xml")


@dataclass(frozen=True)
class BundledTree:
    """One tree shipped with the package: its name (the file stem), file and one-line description."""

    name: str
    path: Path
    description: str


def bundled_trees() -> list[BundledTree]:
    """Every bundled tree, sorted by name; the description is the file's `description:` line."""
    import yaml  # local, so `resolve_tree` stays light

    # Our own files, read for one field: libyaml's safe loader when built (`dexagent tree list` is
    # a start-up figure); the line-tracking loader that reports errors is for loading trees.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    trees = []
    for path in sorted(LIBRARY.glob("*.yaml")):
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
        description = raw.get("description", "") if isinstance(raw, dict) else ""
        trees.append(BundledTree(path.stem, path, str(description).strip()))
    return trees


def bundled_names() -> list[str]:
    """The names `load_tree` and `--tree` accept besides file paths."""
    return sorted(path.stem for path in LIBRARY.glob("*.yaml"))


def resolve_tree(name_or_path: str | Path) -> Path:
    """The file for a bundled tree name or a path; `UnknownTreeError` (with close names) otherwise."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    text = str(name_or_path)
    if text in bundled_names():
        return LIBRARY / f"{text}.yaml"
    if path.suffix.lower() in TREE_SUFFIXES or "/" in text or path.exists():
        reason = "is a directory" if path.is_dir() else "not found"
        raise UnknownTreeError(f"tree file {reason}", path)
    close = difflib.get_close_matches(text, bundled_names(), n=2)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownTreeError(
        f"unknown tree {text!r}{hint} (bundled trees: {', '.join(bundled_names())}; "
        "or give a .yaml/.xml path)"
    )
