"""Tree files written to hurt: alias bombs in parameters, deep nesting, huge values, includes outside.

Each is refused with a `TreeError` naming the file and line, quickly and in little memory,
never a `RecursionError` or an error message the size of the expansion.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dexagent.trees.errors import TreeError
from dexagent.trees.loader import load_tree
from dexagent.trees.source import MAX_DEPTH


def _alias_levels(levels: int, fan_out: int) -> str:
    """A flow list nested `levels` deep, each level `fan_out` aliases of the one inside it."""
    value = "&l0 [" + ", ".join(["x"] * fan_out) + "]"
    for level in range(1, levels):
        value = f"&l{level} [{value}, " + ", ".join([f"*l{level - 1}"] * (fan_out - 1)) + "]"
    return value


def test_an_alias_bomb_in_a_skill_parameter_is_refused_with_a_short_message(tmp_path: Path) -> None:
    # 9**6 = 531,441 strings once expanded; the error used to quote them all.
    path = tmp_path / "bomb.yaml"
    path.write_text(f"tree:\n  grasp:\n    target: {_alias_levels(6, 9)}\n")
    with pytest.raises(TreeError) as caught:
        load_tree(path)
    assert caught.value.line == 3 and "YAML aliases" in str(caught.value)
    assert len(str(caught.value)) < 300


def test_a_wrong_parameter_value_is_quoted_briefly(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text("tree:\n  grasp:\n    target: [" + ", ".join(["'word'"] * 500) + "]\n")
    with pytest.raises(TreeError, match="got \\['word', ") as caught:
        load_tree(path)
    assert len(str(caught.value)) < 300


def test_too_many_aliases_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    uses = ", ".join(["*r"] * 150)
    path.write_text(f"subtrees:\n  r: &r {{reset: {{}}}}\ntree:\n  sequence: [{uses}]\n")
    with pytest.raises(TreeError, match="more than 100 YAML aliases") as caught:
        load_tree(path)
    assert caught.value.line == 4


def test_a_huge_string_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("description: x\ntree:\n  grasp: {target: '" + "a" * 20_000 + "'}\n")
    with pytest.raises(TreeError, match="20000 characters") as caught:
        load_tree(path)
    assert caught.value.line == 3


def _nested_yaml_block(levels: int) -> str:
    lines, indent = ["tree:"], "  "
    for _ in range(levels):
        lines += [f"{indent}sequence:", f"{indent}  -"]
        indent += "    "
    lines[-1] += " reset: {}"
    return "\n".join(lines) + "\n"


def _nested_yaml_flow(levels: int) -> str:
    node = "{reset: {}}"
    for _ in range(levels):
        node = f"{{sequence: [{node}]}}"
    return f"tree: {node}\n"


def _nested_xml(levels: int) -> str:
    body = "<Sequence>" * levels + "<reset/>" + "</Sequence>" * levels
    return f'<root BTCPP_format="4">\n<BehaviorTree ID="main">\n{body}\n</BehaviorTree>\n</root>\n'


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        ("yaml", _nested_yaml_block(300)),
        ("yaml", _nested_yaml_flow(300)),
        ("xml", _nested_xml(300)),
        ("yaml", _nested_yaml_block(MAX_DEPTH + 1)),
        ("yaml", _nested_yaml_flow(MAX_DEPTH + 1)),
        ("xml", _nested_xml(MAX_DEPTH + 1)),
    ],
    ids=["yaml-block-300", "yaml-flow-300", "xml-300", "yaml-block-65", "yaml-flow-65", "xml-65"],
)
def test_deep_nesting_is_refused_at_the_documented_depth(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"deep.{suffix}"
    path.write_text(text)
    with pytest.raises(TreeError, match="nested more than") as caught:
        load_tree(path)
    assert caught.value.path == str(path) and caught.value.line is not None


@pytest.mark.parametrize("render", [_nested_yaml_block, _nested_yaml_flow])
def test_a_tree_just_inside_the_depth_limit_loads(tmp_path: Path, render: object) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(render(MAX_DEPTH - 1))  # type: ignore[operator]  # + the leaf: MAX_DEPTH nodes deep
    load_tree(path)


def test_subtrees_cannot_stack_past_the_depth_limit(tmp_path: Path) -> None:
    levels = 40  # each subtree well inside the limit, together beyond it
    inner = "{reset: {}}"
    for _ in range(levels):
        inner = f"{{sequence: [{inner}]}}"
    outer = "{subtree: b}"
    for _ in range(levels):
        outer = f"{{sequence: [{outer}]}}"
    path = tmp_path / "stacked.yaml"
    path.write_text(f"subtrees:\n  b: {inner}\ntree: {outer}\n")
    with pytest.raises(TreeError, match="with its subtrees expanded"):
        load_tree(path)


def test_includes_stay_inside_the_tree_folder_unless_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "lib.yaml").write_text("subtrees:\n  put_away:\n    reset: {}\n")
    project = tmp_path / "project"
    (project / "lib").mkdir(parents=True)
    (project / "lib" / "own.yaml").write_text("subtrees:\n  home:\n    reset: {}\n")
    (project / "link.yaml").symlink_to(elsewhere / "lib.yaml")  # a link out is outside too
    tree = project / "tree.yaml"
    tree.write_text("include: lib/own.yaml\ntree:\n  subtree: home\n")
    load_tree(tree)
    for entry in (str(elsewhere / "lib.yaml"), "../elsewhere/lib.yaml", "link.yaml"):
        tree.write_text(f"include: {entry}\ntree:\n  subtree: put_away\n")
        with pytest.raises(TreeError, match="outside the tree's folder"):
            load_tree(tree)
    monkeypatch.setenv("DEXAGENT_TREE_INCLUDE_PATH", str(elsewhere))
    assert "put_away" in load_tree(tree).subtrees
