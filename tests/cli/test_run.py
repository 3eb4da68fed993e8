"""`dexagent run` end to end in sim: exit codes, summary, log, video, Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import pytest
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.hardware.sim.scenes import sample_scene

runner = CliRunner()
SEED = 3
FAST = [
    "--controller",
    "scripted",
    "--no-realtime",
    "--objects",
    "2",
    "--seed",
    str(SEED),
    "--image-size",
    "64",
]


def graspable_prompt() -> str:
    spec = next(p.spec for p in sample_scene(SEED, n_objects=2).objects if not p.spec.flat)
    return "grasp the " + spec.name.replace("_", " ")


@pytest.mark.slow
def test_run_completes_prints_the_summary_and_writes_log_and_video(tmp_path: Path) -> None:
    log, video = tmp_path / "run.jsonl", tmp_path / "run.mp4"
    result = runner.invoke(
        app,
        ["run", graspable_prompt(), *FAST, "--log", str(log), "--video", str(video)],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "completed" in result.output and "objects grasped" in result.output and "cadence" in result.output
    # Not a terminal: progress lines (the first at the first tick) in place of the live view.
    assert re.search(r"^tick 1 \(t=[0-9.]+ s sim, 0 s elapsed\): .+; grasped 0$", result.output, re.M)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    end = events[-1]
    assert end["event"] == "run_end" and end["completed"] is True
    frames = sum(1 for _ in iio.imiter(video))
    assert frames == end["ticks"]  # one head|wrist frame per control tick


def test_a_prompt_that_cannot_be_done_exits_1_with_the_reason_said_once() -> None:
    result = runner.invoke(app, ["run", "grasp the banana", *FAST], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "not completed" in result.output
    reason = "the planner could not plan 'grasp the banana': no object in the scene is the banana"
    assert " ".join(result.output.split()).count(reason) == 1, result.output


def test_a_prompt_the_planner_does_not_understand_is_bad_input_exit_2() -> None:
    result = runner.invoke(app, ["run", "asdf qwerty", *FAST], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "error: the scene planner does not understand the prompt 'asdf qwerty'" in output
    assert output.count("does not understand") == 1 and "outcome" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--planner", "oracle"], "unknown planner 'oracle'"),
        (["--robot", "mars"], "unknown robot 'mars'"),
        (["--robot", "real"], "--robot real needs --robot-config FILE"),
        (["--objects", "0"], "--objects must be between 1 and 8"),
        (["--split", "mars"], "unknown split 'mars'"),
        (["--tree", "no_such_tree"], "no_such_tree"),
        (["--max-seconds", "0"], "--max-seconds must be positive"),
        (["--planner-timeout", "0"], "--planner-timeout must be positive"),
        (["--controller", "/no/such/checkpoint"], "--controller /no/such/checkpoint"),
        (["--planner", "openai"], "needs a server URL"),
        (
            [
                "--planner",
                "openai",
                "--planner-url",
                "http://127.0.0.1:9/v1",
                "--planner-model",
                "qwen2.5-vl-7b",
            ],
            "planner openai",
        ),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(args: list[str], message: str) -> None:
    # The later flag wins, so a test's --controller overrides the fast default.
    result = runner.invoke(app, ["run", "clear the table", *FAST, *args], env={"OPENAI_BASE_URL": ""})
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_without_a_shipped_checkpoint_the_default_controller_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dexagent.controller import factory

    monkeypatch.setattr(factory, "CHECKPOINTS_DIR", tmp_path)  # an install without the checkpoints
    result = runner.invoke(app, ["run", "clear the table", "--objects", "2"])
    assert result.exit_code == 2
    output = " ".join(result.output.split())  # rich wraps long paths at the terminal width
    assert "clear_table) uses grasp, and no learned checkpoint ships for it yet" in output
    # One line a newcomer can paste, and it does run.
    line = next(line for line in result.output.splitlines() if line.startswith("This works: "))
    assert line == "This works: dexagent run 'clear the table' --controller scripted"


@pytest.mark.slow
def test_ctrl_c_stops_safely_and_still_writes_the_log(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    command = [sys.executable, "-m", "dexagent.cli.app", "run", graspable_prompt(), *FAST, "--log", str(log)]
    command[command.index("--no-realtime")] = "--realtime"  # a real-time run is still going when we stop it
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "MUJOCO_GL": "egl"}
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if log.exists() and '"grounded"' in log.read_text():
            break
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the run never started grasping")
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output.decode()  # the shell's Ctrl-C code, as collect and train
    assert b"stopped by the operator (Ctrl-C)" in output
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert "skill_preempted" in events and events[-2:] == ["stopped_safely", "run_end"]


@pytest.mark.slow
def test_run_drives_the_sim_with_a_learned_checkpoint_folder(tmp_path: Path, tiny_config) -> None:
    """A checkpoint folder (tiny, random weights: no trained model can be downloaded) runs the
    whole loop: load, ground, receding-horizon control through the safety layer, safe stop."""
    from dexagent.controller.checkpoint import save_checkpoint
    from dexagent.controller.normalizer import Normalizer
    from dexagent.controller.policy import DexGraspPolicy
    from dexagent.hardware.sim.robot import sim_robot_spec

    config = tiny_config(camera_size=48)  # demos rendered at 48 px, resized to the policy's 32
    spec = sim_robot_spec()
    policy = DexGraspPolicy(config, Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False)
    folder = save_checkpoint(tmp_path / "ckpt", policy)
    log = tmp_path / "run.jsonl"
    args = [arg if arg != "scripted" else str(folder) for arg in FAST]
    size_at = args.index("--image-size")
    del args[size_at : size_at + 2]  # no size given: the run renders at the checkpoint's
    result = runner.invoke(
        app, ["run", graspable_prompt(), *args, "--max-seconds", "4", "--log", str(log), "--no-live"]
    )
    # Random weights do not grasp: the run ends on its budget, says why, and exits 1.
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    events = [json.loads(line) for line in log.read_text().splitlines()]
    kinds = {event.get("event") for event in events}
    assert "run_end" in kinds, kinds
    assert any(event.get("event") == "grounded" for event in events), kinds
    # The sim renders at the size the policy's demos were rendered at, not the scripted default.
    setup = next(event for event in events if event.get("event") == "setup")
    assert setup["image_size"] == 48 != config.image_size
