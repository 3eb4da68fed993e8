"""The registry: bundled skills, manifest, JSON schema and name errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import BaseModel

from dexagent.skills import REGISTRY, SkillError, SkillInfo, SkillRegistry, UnknownSkillError

BUNDLED = ["grasp", "push_then_grasp", "reset", "completion_check", "plan", "holding", "target_visible"]


class NoParams(BaseModel):
    pass


def test_importing_skills_registers_every_bundled_skill() -> None:
    assert REGISTRY.names() == BUNDLED


def test_manifest_has_name_kind_one_line_description_and_param_schema() -> None:
    manifest = {entry["name"]: entry for entry in REGISTRY.manifest()}
    assert manifest["grasp"]["kind"] == "action"
    assert manifest["holding"]["kind"] == "condition"
    assert manifest["grasp"]["params"]["required"] == ["target"]
    assert manifest["grasp"]["params"]["properties"]["budget_s"]["default"] == 15.0
    for entry in manifest.values():
        assert entry["description"] and "\n" not in entry["description"]
    json.dumps(manifest)  # the manifest is plain JSON


def test_unknown_skill_suggests_close_names() -> None:
    with pytest.raises(UnknownSkillError, match=r"did you mean 'grasp'") as caught:
        REGISTRY.get("grap")
    assert caught.value.suggestions[0] == "grasp"
    with pytest.raises(UnknownSkillError, match="known skills: grasp, push_then_grasp"):
        REGISTRY.get("fly")


def test_registering_a_name_twice_is_an_error() -> None:
    registry = SkillRegistry()
    info = SkillInfo("wave", "Wave the hand.", "action", NoParams, lambda name, raw, context: None)  # type: ignore[arg-type,return-value]
    registry.register(info)
    with pytest.raises(SkillError, match="already registered"):
        registry.register(info)


@pytest.mark.parametrize(
    ("name", "description", "kind", "problem"),
    [
        ("two words", "Fine.", "action", "identifier"),
        ("wave", "", "action", "one-line description"),
        ("wave", "two\nlines", "action", "one-line description"),
        ("wave", "Fine.", "sensor", "kind must be"),
    ],
)
def test_skill_info_rejects_bad_declarations(name: str, description: str, kind: str, problem: str) -> None:
    with pytest.raises(SkillError, match=problem):
        SkillInfo(name, description, kind, NoParams, lambda n, r, c: None)  # type: ignore[arg-type,return-value]


def test_json_schema_has_one_variant_per_skill_and_accepts_references() -> None:
    schema = REGISTRY.json_schema()
    titles = [variant["title"] for variant in schema["oneOf"]]
    assert titles == BUNDLED
    grasp = schema["oneOf"][0]["properties"]["params"]["properties"]["target"]
    assert {"type": "string", "minLength": 1}.items() <= grasp["anyOf"][0].items()
    assert grasp["anyOf"][1]["pattern"].startswith("^\\{")
    plain = REGISTRY.json_schema(allow_refs=False)["oneOf"][0]["properties"]["params"]["properties"]["target"]
    assert "anyOf" not in plain


def test_every_skill_declares_the_blackboard_keys_it_reads_and_writes() -> None:
    from dexagent.skills import REGISTRY
    from dexagent.skills import blackboard_keys as keys

    manifest = {entry["name"]: entry for entry in REGISTRY.manifest()}
    assert "history" in manifest["grasp"]["reads"] and "history" in manifest["grasp"]["writes"]
    assert {"instructions", "instruction", "target"} <= set(manifest["plan"]["writes"])
    for entry in manifest.values():
        assert keys.FAILURE_REASON in entry["writes"]  # every skill says why it failed


def test_a_bundled_skill_names_its_leaf_class_which_loads_when_built() -> None:
    from dexagent.skills.reset import Reset

    info = REGISTRY.get("reset")
    assert info.factory == "dexagent.skills.reset:Reset"
    assert info.load_factory() is Reset and Reset.info is info


def test_listing_the_skills_imports_no_leaf_py_trees_or_numpy() -> None:
    """`dexagent skills` and the tree schema read the declarations alone (a start-up figure)."""
    probe = (
        "import json, sys\n"
        "from dexagent.skills import REGISTRY\n"
        "json.dumps([REGISTRY.manifest(), REGISTRY.json_schema()])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'py_trees')"
        " or m.startswith(('dexagent.skills.grasp', 'dexagent.skills.reset', 'dexagent.skills.context')))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
