"""A kill in the middle of a checkpoint save: the torn checkpoint is detected, the one before it used."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from dexagent.controller.checkpoint import (
    PREVIOUS_DIR,
    STATE_JSON_FILE,
    STATE_TENSORS_FILE,
    TornCheckpointError,
    load_checkpoint,
    load_training_state,
)
from dexagent.controller.config import PolicyConfig
from dexagent.controller.training import TrainConfig, TrainingError, train

torch.set_num_threads(1)


class _Killed(BaseException):
    """Stands in for kill -9: nothing after it runs (not even the trainer's Ctrl-C save)."""


def _settings(steps: int) -> TrainConfig:
    return TrainConfig(
        steps=steps, batch_size=8, lr=1e-3, warmup_steps=2, val_every=100, save_every=4, seed=3
    )


def _kill_on_second_write_of(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kill the process when `name` is renamed into place for the second time (the step-8 save)."""
    real_replace = os.replace
    seen = 0

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        nonlocal seen
        if Path(target).name == name:
            seen += 1
            if seen == 2:
                raise _Killed
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("killed_at", [STATE_JSON_FILE, STATE_TENSORS_FILE])
def test_a_save_killed_half_way_resumes_from_the_previous_checkpoint_loudly(
    demo_store: Callable[..., Path],
    tiny_config: Callable[..., PolicyConfig],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fault_row: Callable[..., None],
    killed_at: str,
) -> None:
    data = demo_store()
    whole = train(data, tmp_path / "whole", _settings(12), tiny_config(), show_progress=False)
    run = tmp_path / "run"
    with monkeypatch.context() as patch:
        _kill_on_second_write_of(killed_at, patch)
        with pytest.raises(_Killed):
            train(data, run, _settings(12), tiny_config(), show_progress=False)
    with pytest.raises(TornCheckpointError, match="interrupted"):
        load_checkpoint(run)  # inference refuses the torn files and points at previous/
    capsys.readouterr()

    started = time.perf_counter()
    resumed = train(data, run, _settings(12), None, resume=True, show_progress=False)
    seconds = time.perf_counter() - started

    warning = capsys.readouterr().err
    assert "interrupted" in warning and str(run / PREVIOUS_DIR) in warning
    # Continued from step 4 with step 4's weights: the same curve as the run never killed.
    assert [step for step, _ in resumed.losses] == list(range(5, 13))
    assert resumed.losses == whole.losses[4:]
    assert load_training_state(run)["step"] == 12
    assert not list(run.glob("*.tmp"))
    fault_row(
        f"kill during a checkpoint save (before {killed_at} was in place), then `train --resume`",
        0,
        seconds,
        "none",
        "none: the step-4 checkpoint is used, loudly; steps 5-8 are trained again, bit-exactly",
    )


def test_a_torn_first_save_with_nothing_before_it_is_a_clear_error(
    demo_store: Callable[..., Path],
    tiny_config: Callable[..., PolicyConfig],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = demo_store()
    run = tmp_path / "run"
    train(data, run, _settings(4), tiny_config(), show_progress=False)  # one whole save, step 4
    with (run / STATE_TENSORS_FILE).open("ab") as handle:
        handle.write(b"torn")
    with pytest.raises(TrainingError, match="interrupted and no earlier checkpoint was kept"):
        train(data, run, _settings(8), None, resume=True, show_progress=False)
