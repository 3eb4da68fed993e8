"""The scene planner's prompt grammar: phrasings of the paper's prompts and clear refusals."""

from __future__ import annotations

import pytest

from dexagent.agent.planner import PlannerError, parse_prompt


@pytest.mark.parametrize(
    ("prompt", "plural", "colours", "kind", "described"),
    [
        ("Clear the table", True, set(), (), "all objects"),
        ("please clean up the table.", True, set(), (), "all objects"),
        ("Grasp all bottles", True, set(), ("bottle",), "all bottles"),
        ("pick up every bottle on the table", True, set(), ("bottle",), "all bottles"),
        ("Grasp all green objects", True, {"green"}, (), "all green objects"),
        ("grab all the red and blue things", True, {"red", "blue"}, (), "all blue or red objects"),
        ("Grasp all food", True, set(), ("food",), "all food"),
        ("grasp all food items", True, set(), ("food",), "all food"),
        ("grasp the red cup", False, {"red"}, ("cup",), "the red cup"),
        ("Grasp the cup!", False, set(), ("cup",), "the cup"),
        ("pick up the apple", False, set(), ("apple",), "the apple"),
        ("take the orange", False, set(), ("orange",), "the orange"),  # the fruit, not the colour
        ("take the orange can", False, {"orange"}, ("can",), "the orange can"),
        ("grasp the soda cans", True, set(), ("soda", "can"), "all soda cans"),
        ("lift all the boxes", True, set(), ("box",), "all boxes"),
        ("Robot, grasp a toy please", False, set(), ("toy",), "the toy"),
        ("remove all gray objects from the table", True, {"grey"}, (), "all grey objects"),
    ],
)
def test_prompts_the_grammar_understands(
    prompt: str, plural: bool, colours: set[str], kind: tuple[str, ...], described: str
) -> None:
    query = parse_prompt(prompt)
    assert (query.plural, set(query.colours), query.kind) == (plural, colours, kind)
    assert query.describe() == described


@pytest.mark.parametrize(
    ("prompt", "why"),
    [
        ("make me a sandwich", "it does not start with a verb such as 'grasp'"),
        ("grasp the unicorn", "no object kind or colour is called 'unicorn'"),
        ("grasp the", "it names no object"),
        ("", "it does not start with a verb"),
    ],
)
def test_prompts_the_grammar_refuses_say_why_and_what_it_understands(prompt: str, why: str) -> None:
    with pytest.raises(PlannerError) as caught:
        parse_prompt(prompt)
    message = str(caught.value)
    assert f"does not understand the prompt {prompt!r}: {why}" in message
    assert "It understands: 'clear the table'; 'grasp all <kind>s'" in message
