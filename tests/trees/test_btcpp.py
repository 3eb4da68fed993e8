"""BehaviorTree.CPP v4 XML (Groot2) import into the tree model, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dexagent.skills.params import BlackboardRef
from dexagent.trees import model as m
from dexagent.trees.btcpp import btcpp_document
from dexagent.trees.errors import (
    BadReferenceError,
    NodeFieldError,
    SkillParamsError,
    TreeSyntaxError,
    UnknownNodeTypeError,
    UnknownTreeSkillError,
)
from dexagent.trees.loader import load_tree

SAMPLE = Path(__file__).parent / "data" / "groot2_sample.xml"


def test_groot2_sample_imports_into_the_tree_model() -> None:
    document = load_tree(SAMPLE)
    assert document.description == "Grasp one object with recovery"
    root = document.root
    assert isinstance(root, m.SequenceNode) and root.name == "grasp object" and root.memory
    plan, guard, inverter = root.children
    assert isinstance(plan, m.SkillNode) and plan.skill == "plan"
    assert plan.params == {"prompt": BlackboardRef("prompt"), "allow_empty": "false"}
    assert plan.at is not None and plan.at.line == 6
    assert isinstance(guard, m.SelectorNode) and not guard.memory
    holding, timeout = guard.children
    assert isinstance(holding, m.SkillNode) and holding.skill == "holding"
    assert isinstance(timeout, m.TimeoutNode) and timeout.seconds == 90.0
    assert isinstance(timeout.child, m.SubtreeNode) and timeout.child.subtree == "Attempt"
    assert isinstance(inverter, m.InverterNode)
    assert isinstance(inverter.child, m.RepeatNode) and inverter.child.times == 2


def test_groot2_sample_subtree_keeps_its_structure() -> None:
    attempt = load_tree(SAMPLE).subtrees["Attempt"]
    assert isinstance(attempt, m.SelectorNode) and attempt.memory
    retry, parallel, reactive = attempt.children
    assert isinstance(retry, m.RetryNode) and retry.attempts == 2
    assert isinstance(retry.child, m.SkillNode) and retry.child.skill == "grasp"  # v3-style <Action ID=...>
    assert isinstance(parallel, m.ParallelNode) and parallel.policy == "success_on_one"
    assert isinstance(reactive, m.SequenceNode) and not reactive.memory


def xml(body: str, extra: str = "") -> str:
    return f'<root BTCPP_format="4"{extra}>\n<BehaviorTree ID="Main">\n{body}\n</BehaviorTree>\n</root>\n'


def load_xml(text: str) -> m.TreeDocument:
    from dexagent.skills.registry import REGISTRY

    return btcpp_document(text, "tree.xml", REGISTRY)


@pytest.mark.parametrize(
    ("body", "error", "line", "message"),
    [
        (
            "<Sequence><KeepRunningUntilFailure><reset/></KeepRunningUntilFailure></Sequence>",
            UnknownNodeTypeError,
            3,
            "<KeepRunningUntilFailure> is neither a supported BT.CPP node",
        ),
        ("<Sequence><grap target='cup'/></Sequence>", UnknownTreeSkillError, 3, "did you mean 'grasp'"),
        ("<grasp/>", SkillParamsError, 3, "needs parameter 'target'"),
        ("<grasp target='cup' budget_s='soon'/>", SkillParamsError, 3, "expected a number > 0, got 'soon'"),
        (
            "<Repeat num_cycles='-1'><reset/></Repeat>",
            NodeFieldError,
            3,
            "expected an integer >= 1, got '-1'",
        ),
        (
            "<Parallel success_count='2'><reset/><reset/><reset/></Parallel>",
            NodeFieldError,
            3,
            "success_count",
        ),
        ("<Inverter><reset/><reset/></Inverter>", TreeSyntaxError, 3, "exactly one child"),
        ("<Sequence>\n<SubTree ID='Nope'/></Sequence>", BadReferenceError, 4, "unknown subtree 'Nope'"),
        ("<SubTree ID='Main' target='{t}'/>", NodeFieldError, 3, "port remapping is not supported"),
        ("<Timeout msec='soon'><reset/></Timeout>", NodeFieldError, 3, "expected an integer >= 1"),
        ("<Sequence><reset></Sequence>", TreeSyntaxError, 3, "invalid XML: mismatched tag"),
    ],
)
def test_unsupported_or_wrong_xml_names_the_element_and_line(
    body: str, error: type[Exception], line: int, message: str
) -> None:
    with pytest.raises(error) as caught:
        load_xml(xml(body))
    assert caught.value.line == line  # type: ignore[attr-defined]
    assert caught.value.path == "tree.xml"  # type: ignore[attr-defined]
    assert message in str(caught.value)


def test_several_trees_need_main_tree_to_execute() -> None:
    trees = '<BehaviorTree ID="A"><reset/></BehaviorTree><BehaviorTree ID="B"><reset/></BehaviorTree>'
    text = f'<root BTCPP_format="4">{trees}</root>'
    with pytest.raises(NodeFieldError, match="main_tree_to_execute"):
        load_xml(text)


def test_a_dtd_is_refused_so_no_entity_is_expanded() -> None:
    text = '<?xml version="1.0"?>\n<!DOCTYPE root [<!ENTITY a "aaaa">]>\n' + xml("<reset/>")
    with pytest.raises(TreeSyntaxError, match="DTDs are not allowed"):
        load_xml(text)


def test_btcpp_version_3_is_refused() -> None:
    with pytest.raises(NodeFieldError, match='only BTCPP_format="4"'):
        load_xml(xml("<reset/>").replace('BTCPP_format="4"', 'BTCPP_format="3"'))
