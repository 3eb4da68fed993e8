"""Commands that compute nothing start without the heavy libraries: help, tree files, skills.

The model and sim libraries take seconds to import together; these commands must not pay for
them. A fresh interpreter runs the commands (this test session has imported everything long
ago) and reports which of the libraries are loaded after each one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

# Each takes a tenth of a second or more to import (torch and diffusers whole seconds).
HEAVY = ("torch", "diffusers", "transformers", "mujoco", "mink", "zarr", "openai")
# The planner check talks to a server, so it needs the openai client; the rest stays out.
HEAVY_FOR_PLANNER_CHECK = tuple(name for name in HEAVY if name != "openai")

LISTINGS = [
    ["tree", "list"],
    ["tree", "show", "grasp_object"],
    ["tree", "validate", "grasp_object"],
    ["tree", "schema"],
    ["skills"],
    ["skills", "--json"],
    ["skills", "--schema"],
    ["plugins"],
]
# Port 9 (discard) is closed: the check fails at once with "cannot reach" (exit 2).
PLANNER_CHECK = [
    "planner",
    "check",
    "--planner-url",
    "http://127.0.0.1:9/v1",
    "--planner-model",
    "any-model",
    "--planner-box-format",
    "qwen2.5-vl",
    "--timeout",
    "2",
]

# Runs in a fresh interpreter: every command's --help, then the listings, then the planner check,
# in that order; after each, the heavy modules loaded so far (so the first to show one is to blame).
PROBE = """
import json, sys
import typer
from typer.testing import CliRunner
from dexagent.cli.app import app

heavy, listings, planner_check = json.loads(sys.argv[1])

def command_paths(command, path):
    yield path
    if hasattr(command, "list_commands"):  # a group (the root loads its commands' modules on lookup)
        for name in command.list_commands(None):
            yield from command_paths(command.get_command(None, name), [*path, name])

runs = [[*path, "--help"] for path in command_paths(typer.main.get_command(app), [])]
runs += [*listings, planner_check]
runner = CliRunner()
report = []
for args in runs:
    result = runner.invoke(app, args)
    loaded = [name for name in heavy if name in sys.modules]
    report.append({"args": args, "exit_code": result.exit_code, "output": result.output, "loaded": loaded})
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, Any]]:
    """Each command line's exit code, output and the heavy modules loaded by then, by command line."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([HEAVY, LISTINGS, PLANNER_CHECK])],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {" ".join(run["args"]): run for run in json.loads(done.stdout)}


def test_every_command_help_starts_without_heavy_libraries(runs: dict[str, dict[str, Any]]) -> None:
    helps = {line: run for line, run in runs.items() if line.endswith("--help")}
    assert {"--help", "run --help", "tree list --help", "planner check --help"} <= set(helps)
    for line, run in helps.items():
        assert run["exit_code"] == 0, f"dexagent {line}: {run['output']}"
        assert run["loaded"] == [], f"dexagent {line} imported {run['loaded']}"


@pytest.mark.parametrize("args", LISTINGS, ids=" ".join)
def test_listing_starts_without_heavy_libraries(runs: dict[str, dict[str, Any]], args: list[str]) -> None:
    run = runs[" ".join(args)]
    assert run["exit_code"] == 0, run["output"]
    assert run["output"].strip()
    assert run["loaded"] == [], f"dexagent {' '.join(args)} imported {run['loaded']}"


def test_planner_check_loads_the_client_but_no_model_or_sim(runs: dict[str, dict[str, Any]]) -> None:
    run = runs[" ".join(PLANNER_CHECK)]
    assert run["exit_code"] == 2 and "cannot reach" in run["output"], run["output"]
    assert not set(run["loaded"]) & set(HEAVY_FOR_PLANNER_CHECK), run["loaded"]


# A fresh interpreter runs one command and reports the command modules loaded by then.
_ONE_COMMAND = """
import json, sys
from typer.testing import CliRunner
from dexagent.cli.app import app
result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps([result.exit_code, sorted(m for m in sys.modules if m.startswith("dexagent.cli."))]))
"""


@pytest.mark.parametrize("args", [["--help"], ["tree", "list"], ["skills"]], ids=" ".join)
def test_a_command_loads_only_its_own_command_module(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _ONE_COMMAND, *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    exit_code, modules = json.loads(done.stdout)
    assert exit_code == 0
    own = set() if args[0] == "--help" else {"dexagent.cli.errors", f"dexagent.cli.{args[0]}"}
    assert set(modules) <= {"dexagent.cli.app", "dexagent.cli.typer_hooks", *own}, modules


# The real entry point in a fresh interpreter; the last line on stderr: exit code, libraries loaded.
_STARTUP_PROBE = """
import json, sys
from dexagent.cli.app import app
libraries, args = json.loads(sys.argv[1]), sys.argv[2:]
try:
    app(args, prog_name="dexagent")
except SystemExit as stop:
    code = stop.code
print(json.dumps([code, [name for name in libraries if name in sys.modules]]), file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("args", "not_loaded"),
    [
        (["--help"], ("pydantic", "yaml", "py_trees", "numpy")),
        (["tree", "list"], ("pydantic", "py_trees", "numpy")),
        (["skills"], ("pydantic", "py_trees", "numpy")),
    ],
    ids=" ".join,
)
def test_a_start_up_figure_command_loads_only_what_it_shows(
    args: list[str], not_loaded: tuple[str, ...]
) -> None:
    """bench_startup.py's commands (its target: within 2x of importing typer and rich): pydantic
    was half of `tree list`'s start-up (Typer checked the absent --help flags through it,
    cli/typer_hooks.py), py_trees and numpy most of `skills`' (the leaves: skills/bundled.py), then
    pydantic (the parameters are declared as dataclasses: skills/param_fields.py)."""
    done = subprocess.run(
        [sys.executable, "-c", _STARTUP_PROBE, json.dumps(not_loaded), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    exit_code, loaded = json.loads(done.stderr.splitlines()[-1])
    assert exit_code in (0, None), done.stderr
    assert done.stdout.strip()
    assert loaded == [], f"dexagent {' '.join(args)} imported {loaded}"
