"""The package layout: every folder with code is shipped, and folders only import downwards."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A folder may import only from folders after it (ARCHITECTURE.md, "The layers").
ORDER = ["cli", "agent", "trees", "skills", "controller", "hardware"]


def _packages_in_pyproject() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def test_every_code_folder_is_listed_as_a_package() -> None:
    listed = _packages_in_pyproject()
    for top in ORDER:
        for init in (ROOT / top).rglob("__init__.py"):
            package = "dexagent." + ".".join(init.parent.relative_to(ROOT).parts)
            assert package in listed, f"{package} is missing from [tool.setuptools] packages"


def test_every_shipped_data_folder_is_listed_as_a_package() -> None:
    """A shipped checkpoint or tree folder left out of `packages` would be left out of the wheel."""
    listed = _packages_in_pyproject()
    checkpoints = ROOT / "controller" / "checkpoints"
    skills = [p for p in checkpoints.iterdir() if p.is_dir() and p.name not in ("ablations", "in_progress")]
    folders = [*skills, ROOT / "trees" / "library", ROOT / "trees" / "library" / "shared"]
    assert skills, "no shipped checkpoint found"
    for folder in folders:
        package = "dexagent." + ".".join(folder.relative_to(ROOT).parts)
        assert package in listed, f"{package} is missing from [tool.setuptools] packages"
    assert "dexagent.controller.checkpoints.ablations" not in listed  # ablation weights stay out
    assert "dexagent.controller.checkpoints.in_progress" not in listed  # and weights not yet at their bar


def test_lab_logs_stay_out_of_the_wheel() -> None:
    """NOTES.md files are run logs for the repository; package data ships every other *.md
    (folder READMEs, trees/FORMAT.md, the shipped checkpoint's card)."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "*.md" in setuptools["package-data"]["*"]
    assert setuptools["exclude-package-data"]["*"] == ["NOTES.md"]
    assert (ROOT / "controller" / "NOTES.md").is_file()  # the 800-line lab log this keeps out
    assert (ROOT / "controller" / "checkpoints" / "grasp" / "README.md").is_file()  # the card ships


def test_the_sim_products_libraries_are_core_dependencies() -> None:
    """`pip install -e .` alone exports and imports LeRobot datasets and draws report charts."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {requirement.split(">")[0].split("=")[0].strip() for requirement in config["dependencies"]}
    assert {"pyarrow", "av", "pandas", "matplotlib"} <= core
    # Extras are for hardware, optional perception and the optional logger; the tools need them all.
    assert set(config["optional-dependencies"]) == {"real", "perception", "wandb", "dev"}


def test_folders_import_only_downwards() -> None:
    for position, top in enumerate(ORDER):
        allowed = set(ORDER[position:])
        for source in (ROOT / top).rglob("*.py"):
            tree = ast.parse(source.read_text(), filename=str(source))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                for name in names:
                    parts = name.split(".")
                    if parts[0] == "dexagent" and len(parts) > 1:
                        assert parts[1] in allowed, (
                            f"{source.relative_to(ROOT)} imports {name}: "
                            f"{top}/ may only import from {sorted(allowed)}"
                        )


def test_no_file_holds_merge_conflict_markers() -> None:
    """A merge resolved by hand once left `<<<<<<<` / `>>>>>>>` lines in the README."""
    folders = [*ORDER, "tests", "benchmarks", "docs", ".ci"]
    files = [path for folder in folders for path in (ROOT / folder).rglob("*") if path.is_file()]
    files += [path for path in ROOT.iterdir() if path.is_file()]
    found = []
    for path in files:
        if path.suffix not in {".py", ".md", ".yaml", ".yml", ".toml", ".json", ".txt", ""}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if line.startswith(("<<<<<<< ", ">>>>>>> ")):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert not found, f"merge-conflict markers left in: {', '.join(found)}"
