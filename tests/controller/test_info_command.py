"""`dexagent controller info`: parameter counts per part for named configs and checkpoints."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.controller.checkpoint import save_checkpoint
from dexagent.controller.policy import DexGraspPolicy

runner = CliRunner()


def test_paper_config_is_counted_without_downloading_weights() -> None:
    env = {"COLUMNS": "200", "HF_HUB_OFFLINE": "1"}
    result = runner.invoke(app, ["controller", "info", "paper"], env=env)
    assert result.exit_code == 0, result.output
    assert "86,580,480" in result.output and "304,368,640" in result.output  # DINOv2 B/14, L/14
    assert "1369 head" in result.output


def test_checkpoint_folder_reports_its_saved_policy(tmp_path: Path, tiny_config) -> None:
    torch.manual_seed(0)
    policy = DexGraspPolicy(tiny_config())
    save_checkpoint(tmp_path / "ckpt", policy)
    result = runner.invoke(app, ["controller", "info", str(tmp_path / "ckpt")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    total = sum(p.numel() for p in policy.parameters())
    assert f"{total:,}" in result.output and "checkpoint" in result.output


def test_bad_checkpoint_exits_2_with_the_file_named(tmp_path: Path, tiny_config) -> None:
    save_checkpoint(tmp_path / "ckpt", DexGraspPolicy(tiny_config()))
    (tmp_path / "ckpt" / "model.safetensors").write_bytes(b"broken")
    result = runner.invoke(app, ["controller", "info", str(tmp_path / "ckpt")], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "model.safetensors" in result.output


def test_unknown_config_exits_2() -> None:
    result = runner.invoke(app, ["controller", "info", "huge"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "unknown policy config" in result.output


def test_instance_normalised_encoders_are_named(tmp_path: Path, tiny_config) -> None:
    base = tiny_config()
    config = tiny_config(head_encoder=replace(base.head_encoder, input_norm="instance"))
    (tmp_path / "in.json").write_text(config.to_json())
    result = runner.invoke(app, ["controller", "info", str(tmp_path / "in.json")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "head cnn (instance-normalised) / wrist cnn\n" in result.output


def test_set_overrides_a_named_config_and_says_so() -> None:
    args = ["controller", "info", "sim-cnn", "--set", "dit.depth=6", "--set", "head_encoder.pool=1"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "DiT 6 layers" in result.output and "144 head + mask, 36 wrist" in result.output
    caption = " ".join(result.output.split())  # rich wraps the caption at the table's width
    assert "config 'sim-cnn' --set dit.depth=6 --set head_encoder.pool=1" in caption


def test_a_bad_set_exits_2_with_the_allowed_values() -> None:
    args = ["controller", "info", "sim", "--set", "action_mode=velocity"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "action_mode must be one of absolute, delta" in result.output


def test_set_is_refused_for_a_checkpoint_folder(tmp_path: Path, tiny_config) -> None:
    save_checkpoint(tmp_path / "ckpt", DexGraspPolicy(tiny_config()))
    args = ["controller", "info", str(tmp_path / "ckpt"), "--set", "dit.depth=6"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "is a checkpoint" in result.output
