"""`dexagent train` end to end: a real run, resume, and clear errors (exit 2) for bad input."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.controller.checkpoint import CONFIG_FILE, load_checkpoint, load_training_state
from dexagent.controller.config import PolicyConfig

torch.set_num_threads(1)
runner = CliRunner()


def _config_file(tmp_path: Path, config: PolicyConfig) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(config.to_json())
    return path


def _train(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["train", *args])
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def test_train_writes_a_checkpoint_and_resume_continues_it(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data, out = demo_store(), tmp_path / "run"
    config = _config_file(tmp_path, tiny_config())
    common = ["--data", str(data), "--out", str(out), "--batch", "8", "--warmup", "2", "--val-every", "2"]
    code, output = _train(
        *common, "--config", str(config), "--steps", "4", "--augment", "retexture_table=0.5",
        "--augment", "relight=0.25", "--augment", "color_jitter=1", "--augment", "random_conv=0.5",
    )  # fmt: skip
    assert code == 0, output
    assert "done: step 4" in output
    assert load_checkpoint(out).config == dataclasses.replace(
        tiny_config(), camera_size=16, wrist_camera_size=16
    )  # the store's
    assert load_training_state(out)["train_config"]["augment"] == (  # type: ignore[index]
        ("retexture_table", 0.5),
        ("relight", 0.25),
        ("color_jitter", 1.0),
        ("random_conv", 0.5),
    )  # in the order given: the order they apply in
    assert "(5 train / 1 val episodes;" in output and "augment: retexture_table 0.5, relight 0.25" in output
    assert "warning" not in output
    # Options left out continue with the run's values (augment, lr); only a given one that the
    # run keeps is reported as ignored.
    code, output = _train(*common, "--steps", "6", "--resume", "--threads", "1", "--seed", "3")
    assert code == 0, output
    assert f"resuming {out} from step 4 of 6" in output
    assert "ignored: seed=3 (continuing with 0)" in output
    assert "augment=" not in output and "lr=" not in output
    assert load_training_state(out)["step"] == 6  # type: ignore[index]
    # Without --steps a resumed run keeps its own total (6), not the fresh-run default.
    code, output = _train(*common, "--resume")
    assert code == 2 and "is at step 6; ask for more --steps" in output


def test_set_overrides_are_recorded_and_resume_keeps_them(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data, out = demo_store(), tmp_path / "run"
    config = _config_file(tmp_path, tiny_config())
    common = ["--data", str(data), "--out", str(out), "--batch", "8", "--warmup", "2", "--val-every", "2"]
    recipe = ["--set", "dit.depth=1", "--set", "head_encoder.input_norm=instance"]
    code, output = _train(*common, "--config", str(config), *recipe, "--steps", "2")
    assert code == 0, output
    saved = load_checkpoint(out).config
    assert saved.dit.depth == 1 and saved.head_encoder.input_norm == "instance" and saved.name == "tiny"
    assert load_training_state(out)["train_config"]["policy_overrides"] == (  # type: ignore[index]
        "dit.depth=1",
        "head_encoder.input_norm=instance",
    )
    # --resume alone keeps the overrides; the preset without them, or another value, is refused.
    code, output = _train(*common, "--resume", "--steps", "3")
    assert code == 0, output
    assert load_checkpoint(out).config == saved
    assert load_training_state(out)["train_config"]["policy_overrides"] == (  # type: ignore[index]
        "dit.depth=1",
        "head_encoder.input_norm=instance",
    )
    code, output = _train(*common, "--resume", "--steps", "4", "--config", str(config))
    assert code == 2 and "differs from the requested 'tiny' in ['dit', 'head_encoder']" in output
    code, output = _train(*common, "--resume", "--steps", "4", "--set", "dit.depth=2")
    assert code == 2 and "in ['dit']; drop --config and --set to go on" in output
    code, output = _train(*common, "--resume", "--steps", "4", "--set", "dit.depth=1")
    assert code == 0, output


def test_a_bad_set_exits_2_naming_the_field(demo_store: Callable[..., Path], tmp_path: Path) -> None:
    data, out = demo_store(), tmp_path / "run"
    args = ["--data", str(data), "--out", str(out)]
    code, output = _train(*args, "--config", "sim-cnn", "--set", "dit.dpeth=6")
    assert code == 2 and "no field 'dpeth'; dit has width, depth, heads, mlp_ratio, dropout" in output
    code, output = _train(*args, "--set", "head_encoder.input_norm=batch")
    assert code == 2 and "head_encoder.input_norm must be one of imagenet, instance" in output
    assert not out.exists()


def test_bad_arguments_exit_2_with_a_message(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data, out = demo_store(), tmp_path / "run"
    code, output = _train("--data", str(tmp_path / "nope.zarr"), "--out", str(out))
    assert code == 2 and "no such demo store" in output
    code, output = _train("--data", str(data), "--out", str(out), "--config", "huge")
    assert code == 2 and "unknown policy config 'huge'" in output
    code, output = _train("--data", str(data), "--out", str(out), "--steps", "0")
    assert code == 2 and "steps must be positive" in output
    code, output = _train("--data", str(data), "--out", str(out), "--augment", "random_conv=1.5")
    assert code == 2 and "augmentation random_conv: probability must be in [0, 1], got 1.5" in output
    code, output = _train("--data", str(data), "--out", str(out), "--augment", "retexture_tiles=0.3")
    assert code == 2 and "unknown augmentation 'retexture_tiles'; known: color_jitter" in output
    code, output = _train("--data", str(data), "--out", str(out), "--augment", "relight=half")
    assert code == 2 and "expected TYPE=PROBABILITY" in output
    code, output = _train("--data", str(data), "--out", str(out), "--threads", "0")
    assert code == 2 and "--threads must be at least 1" in output
    code, output = _train("--data", str(data), "--out", str(out), "--feature-precision", "half")
    assert code == 2 and "feature_precision must be one of auto, fp32, bf16, got 'half'" in output
    (tmp_path / "empty").mkdir()
    code, output = _train("--data", str(tmp_path / "empty"), "--out", str(out))
    assert code == 2 and "not a demonstration store" in output
    code, output = _train("--data", str(data), "--out", str(tmp_path / "none"), "--resume")
    assert code == 2 and "no run to continue" in output
    code, output = _train("--data", str(data), "--out", str(out), "--resume", "--init-from", str(tmp_path))
    assert code == 2 and "--init-from starts a new run; --resume continues one" in output
    code, output = _train("--data", str(data), "--out", str(out), "--init-from", str(tmp_path / "none"))
    assert code == 2 and "no such checkpoint directory" in output


def test_a_corrupted_checkpoint_cannot_be_resumed(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data, out = demo_store(), tmp_path / "run"
    config = _config_file(tmp_path, tiny_config())
    code, output = _train("--data", str(data), "--out", str(out), "--config", str(config), "--steps", "2")
    assert code == 0, output
    (out / CONFIG_FILE).write_text('{"horizon": ')
    code, output = _train("--data", str(data), "--out", str(out), "--steps", "4", "--resume")
    assert code == 2 and CONFIG_FILE in output and "not valid JSON" in output
    (out / CONFIG_FILE).write_text(json.dumps({**tiny_config().to_dict(), "horizon": 8}))
    code, output = _train("--data", str(data), "--out", str(out), "--steps", "4", "--resume")
    assert code == 2 and "do not match" in output


@pytest.mark.slow
def test_accelerate_launch_runs_the_same_command(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data, out = demo_store(), tmp_path / "run"
    config = _config_file(tmp_path, tiny_config())
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1"]
    command = [*launcher, "-m", "dexagent.cli.app", "train", "--data", str(data), "--out", str(out)]
    command += ["--config", str(config), "--steps", "3", "--batch", "4"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert load_training_state(out)["step"] == 3  # type: ignore[index]


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_saves_the_step_and_resume_goes_on(
    stop: signal.Signals,
    demo_store: Callable[..., Path],
    tiny_config: Callable[..., PolicyConfig],
    tmp_path: Path,
) -> None:
    data, out = demo_store(), tmp_path / "run"
    config = _config_file(tmp_path, tiny_config())
    command = [sys.executable, "-m", "dexagent.cli.app", "train", "--data", str(data), "--out", str(out)]
    command += ["--config", str(config), "--steps", "100000", "--batch", "4", "--save-every", "100000"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 120
    while not list((out / "tb").glob("events.*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # some steps
    process.send_signal(stop)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in output, output
    step = load_training_state(out)["step"]  # type: ignore[index]
    assert 0 < step < 100000 and "--resume" in output
    code, output = _train("--data", str(data), "--out", str(out), "--steps", str(step + 2), "--resume")
    assert code == 0, output
    assert load_training_state(out)["step"] == step + 2  # type: ignore[index]


def test_a_run_shorter_than_its_warm_up_is_warned_about(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    config = _config_file(tmp_path, tiny_config())
    code, output = _train(
        "--data", str(demo_store()), "--out", str(tmp_path / "run"), "--config", str(config), "--steps", "3",
        "--batch", "4",
    )  # fmt: skip
    assert code == 0, output
    assert "warning: --steps 3 ends inside the 500-step learning-rate warm-up" in output


def test_training_logs_to_weights_and_biases_offline(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path, monkeypatch
) -> None:
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    config, out = _config_file(tmp_path, tiny_config()), tmp_path / "run"
    code, output = _train(
        "--data", str(demo_store()), "--out", str(out), "--config", str(config), "--steps", "4",
        "--batch", "4", "--warmup", "1", "--val-every", "2", "--log-to", "wandb", "--log-to", "tensorboard",
    )  # fmt: skip
    assert code == 0, output
    runs = list((out / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1 and runs[0].stat().st_size > 0  # the offline run `wandb sync` uploads
    assert any((out / "tb").iterdir())
    code, output = _train("--data", str(demo_store()), "--out", str(tmp_path / "x"), "--log-to", "mlflow")
    assert code == 2 and "log_to: unknown ['mlflow']" in output
