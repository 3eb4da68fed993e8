"""`dexagent tree ...`: exit codes and output, run through Typer's test runner (the real app)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dexagent.cli.app import app

runner = CliRunner()
HERE = Path(__file__).parent


def test_validate_ok_prints_a_summary() -> None:
    result = runner.invoke(app, ["tree", "validate", "grasp_object"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert flat.startswith("ok ") and "grasp_object.yaml" in flat and "push_then_grasp" in flat


def test_validate_a_broken_file_exits_2_with_file_line_and_field() -> None:
    path = HERE / "broken" / "unknown_skill.yaml"
    result = runner.invoke(app, ["tree", "validate", str(path)])
    assert result.exit_code == 2
    flat = " ".join(result.output.split())  # rich wraps long lines
    assert f"{path}:6: field 'grap': unknown skill 'grap'; did you mean 'grasp'?" in flat


def test_validate_accepts_bt_cpp_xml() -> None:
    result = runner.invoke(app, ["tree", "validate", str(HERE / "data" / "groot2_sample.xml")])
    assert result.exit_code == 0, result.output


def test_show_prints_the_unicode_tree_with_subtrees_expanded() -> None:
    result = runner.invoke(app, ["tree", "show", "clear_table"])
    assert result.exit_code == 0, result.output
    assert "∀ each object" in result.output and "● grasp(target={instruction})" in result.output
    assert "└──" in result.output


def test_show_accepts_xml() -> None:
    result = runner.invoke(app, ["tree", "show", str(HERE / "data" / "groot2_sample.xml")])
    assert result.exit_code == 0, result.output
    assert "already holding?" in result.output and "subtree Attempt" in result.output


def test_show_an_unknown_tree_exits_2() -> None:
    result = runner.invoke(app, ["tree", "show", "clear_tabel"])
    assert result.exit_code == 2
    assert "did you mean 'clear_table'" in result.output


def test_render_writes_svg_and_png(tmp_path: Path) -> None:
    for suffix in ("svg", "png"):
        out = tmp_path / f"tree.{suffix}"
        result = runner.invoke(app, ["tree", "render", "grasp_all", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
    assert (tmp_path / "tree.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_to_an_unsupported_format_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["tree", "render", "grasp_all", "--out", str(tmp_path / "tree.gif")])
    assert result.exit_code == 2 and "use .svg or .png" in result.output


def test_schema_prints_json_with_every_skill() -> None:
    result = runner.invoke(app, ["tree", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "skill_grasp" in schema["$defs"] and "node_recovery" in schema["$defs"]


def test_list_shows_bundled_trees_with_descriptions() -> None:
    result = runner.invoke(app, ["tree", "list"])
    assert result.exit_code == 0
    for name in ("grasp_object", "clear_table", "grasp_all", "nonprehensile_grasp"):
        assert name in result.output
    assert "shared" not in result.output  # include-only files are not trees
