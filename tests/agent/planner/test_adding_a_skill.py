"""Adding a controller-driven skill is one spec registration: every layer then knows it.

A skill that exists only in this test is registered in `CONTROLLED_SKILLS` and nowhere else;
`dexagent skills`, the tree-file schema, tree validation, the planner (its prompt, its
response schema and its reading of replies, through the real openai client), the compiler,
the controller factory, the eval suites and the `--skill` help of `dexagent collect` and
`dexagent sim video` all offer it, and forget it when it goes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dexagent.agent.compile import candidate_trees, choose_tree, validate_plan
from dexagent.agent.evaluation import get_suite
from dexagent.agent.planner import OpenAIPlanner
from dexagent.agent.planner.prompts import response_schemas, skill_menu
from dexagent.cli.app import app
from dexagent.controller.data.collect import CollectJob
from dexagent.controller.factory import resolve_controller
from dexagent.controller.skill_spec import CONTROLLED_SKILLS, ControlledSkill, SkillSuite
from dexagent.hardware import Observation
from dexagent.skills import REGISTRY
from dexagent.skills.planning import Instruction

runner = CliRunner()

SCOOP = ControlledSkill(
    name="scoop",
    description="Scoop a small object off the table with the side of the hand.",
    budget_s=9.0,
    attempt_seconds=8.0,
    expert="dexagent.hardware.sim.expert:GraspExpert",  # any sim expert will do for the factory
    synonyms=("scoop up",),
    sentence="scoop {target} up",
    suite=SkillSuite("scooping", "one small object to scoop", (("seen", 1),), n_objects=2),
)


@pytest.fixture
def scoop() -> Iterator[ControlledSkill]:
    CONTROLLED_SKILLS.register(SCOOP)
    try:
        yield SCOOP
    finally:
        if "scoop" in CONTROLLED_SKILLS:
            CONTROLLED_SKILLS.unregister("scoop")


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_a_registered_skill_is_in_dexagent_skills_and_the_tree_schema(scoop: ControlledSkill) -> None:
    manifest = {entry["name"]: entry for entry in json.loads(_cli("skills", "--json"))}
    assert manifest["scoop"]["kind"] == "action"
    assert manifest["scoop"]["description"] == scoop.description
    assert manifest["scoop"]["params"]["properties"]["budget_s"]["default"] == 9.0
    assert manifest["scoop"]["params"]["required"] == ["target"]
    assert "scoop" in _cli("skills")
    titles = [variant["title"] for variant in json.loads(_cli("skills", "--schema"))["oneOf"]]
    assert titles == [*(name for name in REGISTRY.names() if name != "scoop"), "scoop"]
    tree_schema = json.loads(_cli("tree", "schema"))
    node = tree_schema["$defs"]["skill_scoop"]
    assert node["description"] == f"action: {scoop.description}"
    assert node["properties"]["scoop"]["properties"]["budget_s"]["anyOf"][0]["default"] == 9.0


def test_a_tree_file_may_use_a_registered_skill(scoop: ControlledSkill, tmp_path: Path) -> None:
    tree = tmp_path / "scoop.yaml"
    tree.write_text(
        "description: Scoop what the prompt names.\n"
        "tree:\n"
        "  sequence:\n"
        '    - plan: {prompt: "{prompt}", allow_empty: false}\n'
        '    - scoop: {target: "{target}", budget_s: 5}\n'
        "    - reset: {}\n"
    )
    assert "ok" in _cli("tree", "validate", str(tree))
    CONTROLLED_SKILLS.unregister("scoop")
    result = runner.invoke(app, ["tree", "validate", str(tree)])
    assert result.exit_code == 2 and "scoop" in result.output  # an unknown skill again


def test_the_planner_offers_and_reads_a_registered_skill(
    scoop: ControlledSkill, vlm_server: Any, observation: Observation
) -> None:
    reply = {"reasoning": "a bean", "instructions": [{"skill": "Scoop-Up", "target": "the bean"}]}
    vlm_server.queue(json.dumps(reply))
    planner = OpenAIPlanner(vlm_server.url, "Qwen2.5-VL-7B-Instruct", sleep=lambda s: None)
    plan = planner.propose("scoop the bean", observation, ())
    assert plan.instructions == (Instruction(skill="scoop", target="the bean", text="scoop the bean up"),)
    (request,) = vlm_server.chat_requests()
    schema = request["response_format"]["json_schema"]["schema"]
    skill_enum = schema["properties"]["instructions"]["items"]["properties"]["skill"]["enum"]
    assert skill_enum == ["grasp", "push_then_grasp", "scoop"]
    parts = [part for message in request["messages"] for part in _parts(message)]
    prompt = " ".join(part["text"] for part in parts if part["type"] == "text")
    assert f'- "scoop": {scoop.description}' in prompt
    validate_plan(plan)  # the compiler runs it: a registered action skill whose target is valid
    assert choose_tree("scoop the bean", plan)[0] == "grasp_object"  # no tree of its own: the default's
    assert candidate_trees("scoop the bean") == ("grasp_object", "nonprehensile_grasp")


def test_controllers_data_and_eval_know_a_registered_skill(scoop: ControlledSkill) -> None:
    resolve_controller("scripted", "scoop")
    assert CollectJob(skill="scoop").skill == "scoop"
    suite = get_suite("scooping")
    assert (suite.skill, suite.n_objects, suite.flat_target) == ("scoop", 2, False)


# The command-line help is written when the CLI loads, so the skill is registered before that, in a
# fresh interpreter (this one loaded the CLI long ago).
_HELP_PROBE = """
from dexagent.controller.skill_spec import CONTROLLED_SKILLS, ControlledSkill
CONTROLLED_SKILLS.register(
    ControlledSkill(name="scoop", description="Scoop.", budget_s=9.0, attempt_seconds=8.0)
)
from typer.testing import CliRunner
from dexagent.cli.app import app
for args in (["collect", "--help"], ["sim", "video", "--help"]):
    print(CliRunner().invoke(app, args, env={"COLUMNS": "200"}).output)
"""


def test_collect_and_sim_video_offer_a_skill_registered_before_the_cli_loads() -> None:
    done = subprocess.run([sys.executable, "-c", _HELP_PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("grasp | push_then_grasp | scoop") == 2, done.stdout


def test_an_unregistered_skill_is_gone_everywhere(scoop: ControlledSkill) -> None:
    CONTROLLED_SKILLS.unregister("scoop")
    assert "scoop" not in REGISTRY
    assert "scoop" not in json.dumps(json.loads(_cli("tree", "schema")))
    with pytest.raises(ValueError, match="unknown skill 'scoop'"):
        Instruction(skill="scoop", target="the bean", text="scoop the bean up")
    with pytest.raises(ValueError, match="unknown skill 'scoop'"):
        CollectJob(skill="scoop")
    with pytest.raises(ValueError, match="unknown suite 'scooping'"):
        get_suite("scooping")
    propose = response_schemas()["propose"]["properties"]["instructions"]["items"]
    assert propose["properties"]["skill"]["enum"] == ["grasp", "push_then_grasp"]
    assert "scoop" not in skill_menu()


def _parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content
