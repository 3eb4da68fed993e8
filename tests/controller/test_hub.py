"""`controller push / pull` through huggingface_hub, without a hub: the repo layout written to a local
folder, pulls from that folder and from the hub cache with HF_HUB_OFFLINE, and clear errors."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.controller.checkpoint import load_checkpoint, save_checkpoint
from dexagent.controller.hub import FRONT_MATTER, HubError, pull, stage
from dexagent.controller.normalizer import Normalizer
from dexagent.controller.policy import DexGraspPolicy

REPO = "someone/tiny-grasp"
runner = CliRunner()


@pytest.fixture
def checkpoint(tmp_path: Path, tiny_config, make_batch) -> Path:
    torch.manual_seed(0)
    config = tiny_config()
    batch = make_batch(config, batch_size=8)
    normalizer = Normalizer.from_data(batch["state"].numpy(), batch["action"].reshape(-1, 13).numpy())
    folder = save_checkpoint(
        tmp_path / "ckpt", DexGraspPolicy(config, normalizer), training_state={"step": 3}
    )
    (folder / "README.md").write_text("# Tiny grasp\n\nTrained for a test.\n")
    return folder


def fill_hub_cache(cache: Path, repo_id: str, snapshot: Path, commit: str = "0" * 40) -> None:
    """The hub cache as `hf_hub_download` leaves it: blobs by hash, a snapshot of symlinks, refs/main."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    files = repo / "snapshots" / commit
    files.mkdir(parents=True)
    for path in snapshot.iterdir():
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        (repo / "blobs" / digest).write_bytes(data)
        (files / path.name).symlink_to(Path("../../blobs") / digest)


def same_weights(a: Path, b: Path) -> bool:
    first, second = load_checkpoint(a).state_dict(), load_checkpoint(b).state_dict()
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def test_push_to_a_folder_writes_the_repo_layout_with_a_card(checkpoint: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["controller", "push", str(checkpoint), REPO, "--to-folder", str(tmp_path / "repo")]
    )
    assert result.exit_code == 0, result.output
    repo = tmp_path / "repo"
    assert sorted(p.name for p in repo.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "normalizer.json",
    ]
    card = (repo / "README.md").read_text()
    assert card.startswith(FRONT_MATTER) and "library_name: dexagent" in card and "# Tiny grasp" in card
    assert same_weights(repo, checkpoint)  # and no trainer state travels


def test_pull_from_a_local_folder_and_from_the_offline_cache(checkpoint: Path, tmp_path: Path) -> None:
    stage(checkpoint, tmp_path / "repo", REPO)
    assert same_weights(pull(str(tmp_path / "repo"), tmp_path / "from_folder"), checkpoint)

    fill_hub_cache(tmp_path / "cache", REPO, tmp_path / "repo")
    pulled = pull(REPO, tmp_path / "from_cache", offline=True, cache_dir=tmp_path / "cache")
    assert same_weights(pulled, checkpoint)
    assert not (pulled / "model.safetensors").is_symlink()  # a real copy, independent of the cache
    assert (pulled / "README.md").read_text().startswith(FRONT_MATTER)


@pytest.mark.slow  # three fresh `dexagent` processes (the offline switch is read at import)
def test_cli_pull_honours_hf_hub_offline(checkpoint: Path, tmp_path: Path) -> None:
    stage(checkpoint, tmp_path / "repo", REPO)
    fill_hub_cache(tmp_path / "cache", REPO, tmp_path / "repo")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "cache"), "COLUMNS": "240"}
    command = [sys.executable, "-m", "dexagent.cli.app", "controller", "pull"]
    done = subprocess.run([*command, REPO, str(tmp_path / "out")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"pulled {REPO} into" in done.stdout and same_weights(tmp_path / "out", checkpoint)
    missing = subprocess.run(
        [*command, "someone/absent", str(tmp_path / "x")], env=env, capture_output=True, text=True
    )
    assert missing.returncode == 2
    assert "someone/absent is not in the local hub cache and the hub is offline" in missing.stderr
    pushed = subprocess.run(
        [sys.executable, "-m", "dexagent.cli.app", "controller", "push", str(checkpoint), REPO],
        env=env,
        capture_output=True,
        text=True,
    )
    assert pushed.returncode == 2 and "HF_HUB_OFFLINE is set" in pushed.stderr


def test_bad_sources_give_clear_errors(checkpoint: Path, tmp_path: Path) -> None:
    (tmp_path / "not_a_model").mkdir()
    (tmp_path / "not_a_model" / "notes.txt").write_text("hi")
    with pytest.raises(HubError, match="has no model.safetensors, config.json, normalizer.json"):
        pull(str(tmp_path / "not_a_model"), tmp_path / "a")
    with pytest.raises(HubError, match="neither a folder nor a hub repo id"):
        pull("not a repo!", tmp_path / "b", offline=True)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(HubError, match="not empty"):
        pull(str(checkpoint), tmp_path / "full")
    broken = tmp_path / "broken"
    stage(checkpoint, broken, REPO)
    (broken / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(HubError, match="not a loadable controller checkpoint"):
        stage(broken, tmp_path / "c", REPO)


def _pull_against(
    endpoint: str, tmp_path: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(tmp_path / "cache"), "COLUMNS": "240"}
    env.pop("HF_HUB_OFFLINE", None)
    command = [sys.executable, "-m", "dexagent.cli.app", "controller", "pull", REPO, str(tmp_path / "out")]
    started = time.perf_counter()
    done = subprocess.run([*command, *extra], env=env, capture_output=True, text=True, timeout=120)
    return done, time.perf_counter() - started


@pytest.mark.slow  # fresh `dexagent` processes (the hub's endpoint is read at import)
def test_cli_pull_gives_up_on_a_hub_that_never_answers(tmp_path: Path, fault_row: Any) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (the kernel does), never answers
    try:
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
        done, seconds = _pull_against(endpoint, tmp_path, "--timeout", "2")
    finally:
        listener.close()
    assert done.returncode == 2, done.stderr
    assert f"the hub at {endpoint} did not answer within 2 s" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    assert seconds < 30, seconds  # was: forever (repo_info blocked on a read with no timeout)
    fault_row(
        "`controller pull` from a hub that accepts and never answers (`--timeout 2`)",
        2,
        seconds,
        "none",
        "none",
    )


@pytest.mark.slow
def test_cli_pull_from_an_unreachable_hub_does_not_say_offline(tmp_path: Path, fault_row: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens once closed
    done, seconds = _pull_against(endpoint, tmp_path)
    flat = " ".join(done.stderr.split())
    assert done.returncode == 2, done.stderr
    assert f"cannot reach the hub at {endpoint}" in flat and "offline" not in flat, flat
    fault_row("`controller pull` from an unreachable hub", 2, seconds, "none", "none")
