"""Training on two processes (gloo on CPU, as on N GPUs): one run, sharded, in step, one writer.

Real `torchrun` launches of the real trainer; `distributed_probe.py` notes what each rank did.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dexagent.controller.checkpoint import load_training_state
from dexagent.controller.config import PolicyConfig

PROBE = Path(__file__).with_name("distributed_probe.py")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCELERATE_")}
    return {**env, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", **extra}


def _probe(
    data: Path, out: Path, config: Path, records: Path, steps: int, *flags: str
) -> list[dict[str, Any]]:
    """Both ranks' records of one launch, rank 0 first; the launch's output must not hold a traceback."""
    records.mkdir(exist_ok=True)
    for old in records.glob("rank*.json"):
        old.unlink()
    command = [*TORCHRUN, str(PROBE), str(data), str(out), str(config), str(records), str(steps), *flags]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env=_env(ACCELERATE_USE_CPU="true")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads((records / f"rank{rank}.json").read_text()) for rank in (0, 1)]


@pytest.mark.slow
def test_two_processes_are_one_run_sharded_in_step_with_one_writer_and_resume(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data, out, records = demo_store(), tmp_path / "run", tmp_path / "records"
    config = tmp_path / "tiny.json"
    config.write_text(tiny_config().to_json())

    first = _probe(data, out, config, records, 2)
    assert [r["world"] for r in first] == [2, 2] and [r["step"] for r in first] == [2, 2]
    for step in ("0", "1"):  # each rank trains on its own shard of every step's batch
        shards = [set(r["positions"][step]) for r in first]
        assert shards[0] and shards[1] and not shards[0] & shards[1], step
    assert first[0]["weights"] == first[1]["weights"]  # gradients were averaged: the same model
    assert first[0]["saves"] == 2 and first[1]["saves"] == 0  # one writer of checkpoints
    assert len(list((out / "tb").glob("events.*"))) == 1  # and of logs
    assert load_training_state(out)["step"] == 2  # type: ignore[index]

    resumed = _probe(data, out, config, records, 4, "--resume")
    assert [sorted(r["positions"]) for r in resumed] == [["2", "3"], ["2", "3"]]  # on from step 2
    assert resumed[0]["weights"] == resumed[1]["weights"] != first[0]["weights"]
    assert resumed[1]["saves"] == 0 and load_training_state(out)["step"] == 4  # type: ignore[index]


@pytest.mark.slow
def test_a_launch_whose_processes_cannot_see_each_other_is_refused(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    """Plain torchrun on a machine without GPUs: accelerate would run two unsharded copies."""
    data, out = demo_store(), tmp_path / "run"
    config = tmp_path / "tiny.json"
    config.write_text(tiny_config().to_json())
    command = [*TORCHRUN, "-m", "dexagent.cli.app", "train", "--data", str(data), "--out", str(out)]
    command += ["--config", str(config), "--steps", "2", "--batch", "4"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=_env())
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0
    assert "launched as one of 2 (WORLD_SIZE=2), but training sees 1 process(es)" in output, output
    assert "ACCELERATE_USE_CPU=true torchrun --nproc_per_node N -m dexagent.cli.app train" in output
    assert not out.exists()  # refused before anything was written
