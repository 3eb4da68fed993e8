"""`dexagent eval`: a real scripted evaluation with its JSON report, and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.controller import factory

runner = CliRunner()


def evaluate(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["eval", *args])
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--suite", "mars"], "unknown suite 'mars'; valid suites: seen"),
        (["--episodes", "0"], "episodes must be positive"),
        (["--attempts", "0"], "attempts must be positive"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--controller", "/no/such/folder"], "neither 'scripted', 'default' nor an existing checkpoint"),
        (["--suite", "long-horizon", "--realtime"], "'long-horizon' has its own protocol"),
        (["--precision", "fp16"], "--precision must be one of auto, fp32, bf16, got 'fp16'"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(args: list[str], message: str) -> None:
    code, output = evaluate("--controller", "scripted", *args)
    assert code == 2
    assert message in output


def test_the_default_controller_without_a_shipped_checkpoint_points_to_scripted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(factory, "CHECKPOINTS_DIR", tmp_path)  # an install without the checkpoints
    code, output = evaluate("--suite", "seen", "--episodes", "1")
    assert code == 2
    assert "no learned checkpoint ships for skill 'grasp' yet" in output and "--controller scripted" in output


def test_an_unwritable_json_path_fails_before_running(tmp_path: Path) -> None:
    code, output = evaluate("--controller", "scripted", "--json", str(tmp_path / "missing" / "r.json"))
    assert code == 2
    assert "does not exist" in output


def test_a_scripted_eval_prints_the_table_and_writes_the_json_report(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    code, output = evaluate(
        "--controller", "scripted", "--suite", "single-object", "--episodes", "2", "--seed", "5",
        "--attempts", "2", "--image-size", "32", "--json", str(report_path),
    )  # fmt: skip
    assert code == 0, output
    assert "single-object" in output and "@2" in output
    # Not a terminal: a progress line per episode (per 5% of them) with the running success rate.
    successes = json.loads(report_path.read_text())["successes"]
    assert "episode 1/2: " in output and f"episode 2/2: {successes}/2 succeeded" in output
    report = json.loads(report_path.read_text())
    assert report["suite"] == "single-object" and report["controller"] == "scripted"
    assert report["episodes"] == 2 and report["seed"] == 5 and report["attempts"] == 2
    assert report["success_rate"] == report["successes"] / 2
    assert len(report["success_at_k"]) == 2 and len(report["records"]) == 2
    for record in report["records"]:
        assert set(record) >= {"scene_seed", "split", "target_name", "target_tags", "success", "steps"}
        assert set(record) >= {"wall_seconds", "failure_reason", "success_attempt"}
        assert record["split"] == "seen" and record["steps"] > 0
        assert (record["failure_reason"] is None) == record["success"]


@pytest.mark.slow
def test_a_checkpoint_is_evaluated_at_the_size_its_demos_were_rendered_at(
    tmp_path: Path, tiny_config
) -> None:
    """No --image-size: the sim renders at the checkpoint's camera size (48), not the policy's input
    size (32) nor the scripted default (96)."""
    from dexagent.controller.checkpoint import save_checkpoint
    from dexagent.controller.normalizer import Normalizer
    from dexagent.controller.policy import DexGraspPolicy
    from dexagent.hardware.sim.robot import sim_robot_spec

    spec = sim_robot_spec()
    policy = DexGraspPolicy(
        tiny_config(camera_size=48), Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False
    )
    folder = save_checkpoint(tmp_path / "ckpt", policy)
    report_path = tmp_path / "report.json"
    code, output = evaluate(
        "--controller", str(folder), "--suite", "single-object", "--episodes", "1", "--json", str(report_path)
    )
    assert code == 0, output
    assert json.loads(report_path.read_text())["image_size"] == 48
