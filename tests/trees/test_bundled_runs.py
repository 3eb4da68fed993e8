"""The bundled trees' behaviour, with scripted stand-ins for the skills: every recovery path.

The stand-ins have the real skills' names and parameter models, so the trees load exactly
as in a run; only the leaves' outcomes are scripted.
"""

from __future__ import annotations

import py_trees
from py_trees.common import Status
from stand_ins import F, S, Script, scripted_registry, tick_until_done

from dexagent.trees.builder import build_behaviour
from dexagent.trees.loader import load_tree


def run_bundled(name: str, script: Script, prompt: str = "grasp the cup") -> Status:
    registry = scripted_registry(script)
    root = build_behaviour(load_tree(name, registry), context=None, registry=registry)  # type: ignore[arg-type]
    py_trees.blackboard.Blackboard.set("/prompt", prompt)
    status, _ = tick_until_done(root)
    return status


def skills(script: Script) -> list[str]:
    """The skills started, without `plan` (always first) and with their target."""
    return [call for call in script.log if not call.startswith("plan(")]


def test_grasp_object_first_grasp_succeeds() -> None:
    script = Script(plans=[["cup"]])
    assert run_bundled("grasp_object", script) == S
    assert script.log[0] == "plan(grasp the cup, False)"
    assert skills(script) == ["target_visible(cup)", "grasp(cup)", "reset()"]


def test_grasp_object_regrasps_after_a_failed_grasp() -> None:
    script = Script(plans=[["cup"]], outcomes={"grasp": [F, S]})
    assert run_bundled("grasp_object", script) == S
    assert skills(script) == ["target_visible(cup)", "grasp(cup)", "grasp(cup)", "reset()"]


def test_grasp_object_falls_back_to_push_then_grasp() -> None:
    script = Script(plans=[["cup"]], outcomes={"grasp": [F, F]})
    assert run_bundled("grasp_object", script) == S
    ladder = ["grasp(cup)", "grasp(cup)", "push_then_grasp(cup)"]
    assert skills(script) == ["target_visible(cup)", *ladder, "reset()"]


def test_grasp_object_resets_and_climbs_the_ladder_again() -> None:
    script = Script(plans=[["cup"]], outcomes={"grasp": [F, F, S], "push_then_grasp": [F]})
    assert run_bundled("grasp_object", script) == S
    ladder = ["grasp(cup)", "grasp(cup)", "push_then_grasp(cup)"]
    assert skills(script) == ["target_visible(cup)", *ladder, "reset(False)", "grasp(cup)", "reset()"]


def test_grasp_object_fails_after_the_second_ladder() -> None:
    script = Script(plans=[["cup"]], outcomes={"grasp": [F] * 4, "push_then_grasp": [F, F]})
    assert run_bundled("grasp_object", script) == F
    ladder = ["grasp(cup)", "grasp(cup)", "push_then_grasp(cup)"]
    assert skills(script) == ["target_visible(cup)", *ladder, "reset(False)", *ladder]


def test_grasp_object_fails_when_the_recovery_reset_fails() -> None:
    script = Script(plans=[["cup"]], outcomes={"grasp": [F, F], "push_then_grasp": [F], "reset": [F]})
    assert run_bundled("grasp_object", script) == F
    assert skills(script)[-1] == "reset(False)"


def test_grasp_object_does_not_grasp_an_invisible_target() -> None:
    script = Script(plans=[["cup"]], outcomes={"target_visible": [F]})
    assert run_bundled("grasp_object", script) == F
    assert skills(script) == ["target_visible(cup)"]


def test_clear_table_grasps_every_planned_object_then_checks_completion() -> None:
    script = Script(plans=[["cup", "can"]])
    assert run_bundled("clear_table", script, "clear the table") == S
    check = "completion_check(clear the table)"
    assert skills(script) == ["grasp(cup)", "reset()", "grasp(can)", "reset()", check]


def test_clear_table_replans_until_the_completion_check_passes() -> None:
    script = Script(plans=[["cup"], ["can"]], outcomes={"completion_check": [F, S]})
    assert run_bundled("clear_table", script, "clear the table") == S
    assert [c for c in script.log if c.startswith(("plan", "grasp", "completion"))] == [
        "plan(clear the table)",
        "grasp(cup)",
        "completion_check(clear the table)",
        "plan(clear the table)",
        "grasp(can)",
        "completion_check(clear the table)",
    ]


def test_clear_table_with_nothing_left_only_checks_completion() -> None:
    script = Script(plans=[[]])
    assert run_bundled("clear_table", script, "clear the table") == S
    assert skills(script) == ["completion_check(clear the table)"]


def test_clear_table_stops_a_round_at_a_failed_object_and_replans() -> None:
    failing = {"grasp": [F, F, F, F], "push_then_grasp": [F, F]}
    script = Script(plans=[["cup", "can"], ["can"]], outcomes=failing)
    assert run_bundled("clear_table", script, "clear the table") == S
    grasped = [c for c in script.log if c.startswith("grasp")]
    assert grasped == ["grasp(cup)"] * 4 + ["grasp(can)"]  # can is not tried in round 1


def test_grasp_all_tries_the_other_matches_before_replanning() -> None:
    failing = {"grasp": [F, F, F, F], "push_then_grasp": [F, F]}
    script = Script(plans=[["bottle 1", "bottle 2"], ["bottle 1"]], outcomes=failing)
    assert run_bundled("grasp_all", script, "grasp all bottles") == S
    grasped = [c for c in script.log if c.startswith("grasp")]
    assert grasped == ["grasp(bottle 1)"] * 4 + ["grasp(bottle 2)", "grasp(bottle 1)"]
    assert script.log.count("plan(grasp all bottles)") == 2


def test_clear_table_gives_up_after_its_rounds() -> None:
    script = Script(plans=[["cup"]] * 8, outcomes={"completion_check": [F] * 8})
    assert run_bundled("clear_table", script, "clear the table") == F
    assert script.log.count("completion_check(clear the table)") == 8


def test_nonprehensile_grasp_pushes_recovers_and_puts_away() -> None:
    script = Script(plans=[["the plate"]], outcomes={"push_then_grasp": [F, S]})
    assert run_bundled("nonprehensile_grasp", script, "grasp the plate") == S
    assert skills(script) == [
        "target_visible(the plate)",
        "push_then_grasp(the plate)",
        "reset(False)",
        "push_then_grasp(the plate)",
        "reset()",
    ]
