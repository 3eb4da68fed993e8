"""`dexagent collect`: a real scripted collection in sim, kill -9 safety, and clear errors for bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.controller.data import DemoStore, StoreError

runner = CliRunner()


def collect(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["collect", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--skill", "juggle"], "unknown skill 'juggle'"),
        (["--split", "mars"], "unknown split 'mars'"),
        (["--episodes", "0"], "--episodes must be positive"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--objects", "9"], "objects must be in 1..8"),
        (["--tempo", "3"], "tempo must be in 0..2"),
        (["--push-height", "0.02"], "push height perturbs push demos; skill 'grasp' has no push"),
        (["--skill", "push_then_grasp", "--push-height", "0.2"], "push height must be in 0..0.05 m"),
        (["--on-policy", "default", "--push-height", "0.02"], "on-policy collection lets the policy drive"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(tmp_path: Path, args: list[str], message: str) -> None:
    base = {"--episodes": "1", "--out": str(tmp_path / "d.zarr")}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    code, output = collect(*[item for pair in base.items() for item in pair])
    assert code == 2
    assert message in " ".join(output.split())


def test_an_unwritable_output_path_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code, output = collect("--episodes", "1", "--out", str(blocker / "demos.zarr"))
    assert code == 2
    assert "cannot create the store" in " ".join(output.split())


def test_a_short_collect_writes_a_store_that_reads_back_with_the_right_shapes(tmp_path: Path) -> None:
    out = tmp_path / "demos.zarr"
    code, output = collect("--episodes", "2", "--out", str(out), "--image-size", "32", "--seed", "3")
    assert code == 0, output
    # Not a terminal: a progress line per demo (per 5% of them) with the success count and speed.
    assert "demo 1/2: 1/" in output and "demo 2/2: 2/" in output and "demos/min" in output
    store = DemoStore.open(out)
    assert store.num_episodes == 2 and store.image_size == 32
    frames = store.num_frames
    assert store["action"].shape == (frames, 13) and store["state"].shape == (frames, 13)
    assert store["head_rgb"].shape == (frames, 32, 32, 3) and store["wrist_rgb"].shape == (frames, 32, 32, 3)
    assert store["head_mask"].shape == (frames, 32, 32)
    for index in range(2):
        metadata = store.episode_metadata(index)
        episode = store.episode(index)
        assert metadata.skill == "grasp" and metadata.split == "seen"
        assert (
            metadata.instruction.startswith("grasp the ") and metadata.target_colour in metadata.instruction
        )
        assert metadata.steps == episode.steps > 20
        # The target is visible in the first frame, inside the recorded initial box.
        x1, y1, x2, y2 = metadata.target_box
        ys, xs = np.nonzero(episode.head_mask[0])
        assert len(xs) > 0 and x1 <= xs.min() and xs.max() < x2 and y1 <= ys.min() and ys.max() < y2
        # The table masks cover much of both views and never the target.
        assert episode.head_table.mean() > 0.2 and episode.wrist_table.any(axis=(1, 2)).mean() > 0.5
        assert not (episode.head_table & episode.head_mask).any()
        # Recorded actions are what the safety layer let through: inside the hand's [0, 1] range.
        assert np.all((episode.action[:, 7:] >= 0) & (episode.action[:, 7:] <= 1))
    # Appending with the same seed continues with new scenes instead of repeating them.
    code, output = collect("--episodes", "1", "--out", str(out), "--image-size", "32", "--seed", "3")
    assert code == 0, output
    seeds = DemoStore.open(out).metadata_column("seed")
    assert len(seeds) == 3 and len(set(seeds.tolist())) == 3


def test_appending_with_another_image_size_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "demos.zarr"
    DemoStore.create_or_append(out, image_size=32, control_hz=20.0, joints=13).close()
    code, output = collect("--episodes", "1", "--out", str(out), "--image-size", "48")
    assert code == 2
    assert "holds 32 px images; cannot append 48 px" in " ".join(output.split())


def test_each_camera_renders_at_the_size_asked_for_it(tmp_path: Path) -> None:
    out = tmp_path / "demos.zarr"
    code, output = collect(
        "-n", "1", "--out", str(out), "--image-size", "64", "--wrist-size", "32", "--seed", "3"
    )
    assert code == 0, output
    store = DemoStore.open(out)
    assert (store.image_size, store.wrist_size) == (64, 32)
    assert store["head_rgb"].shape[1:] == (64, 64, 3) and store["wrist_rgb"].shape[1:] == (32, 32, 3)
    code, output = collect("-n", "1", "--out", str(out), "--image-size", "64")  # the wrist at 64 too
    assert code == 2 and "--image-size 64 --wrist-size 32" in " ".join(output.split())
    code, output = collect(
        "-n", "1", "--out", str(tmp_path / "r.zarr"), "--robot", "real", "--wrist-size", "32"
    )
    assert code == 2 and "--wrist-size is for the sim" in " ".join(output.split())


def _start_collect(out: Path, *options: str, output: int) -> subprocess.Popen[bytes]:
    """`dexagent collect` of 50 demos into `out` in a process of its own, as the script runs it."""
    entry_point = "from dexagent.cli.app import main; main()"  # what the `dexagent` script runs
    command = [sys.executable, "-c", entry_point, "collect", "--episodes", "50", "--out", str(out), *options]
    stderr = subprocess.STDOUT if output == subprocess.PIPE else output
    env = {**os.environ, "MUJOCO_GL": "egl", "COLUMNS": "200"}
    return subprocess.Popen(command, stdout=output, stderr=stderr, env=env)


@pytest.mark.slow
def test_a_collect_killed_with_sigkill_leaves_only_whole_episodes(tmp_path: Path) -> None:
    out = tmp_path / "demos.zarr"
    process = _start_collect(out, "--image-size", "64", output=subprocess.DEVNULL)
    try:
        # Kill as soon as frames are written past the committed episodes (mid-write), or at the
        # latest once three episodes are committed (then the fourth is being recorded).
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
            try:
                store = DemoStore.open(out)
            except StoreError:  # not created yet
                continue
            mid_write = store["action"].shape[0] > store.num_frames
            if store.num_episodes >= 1 and (mid_write or store.num_episodes >= 3):
                break
        assert process.poll() is None, "collect ended before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    reader = DemoStore.open(out)
    committed = reader.num_episodes
    assert committed >= 1
    assert reader.num_frames == int(reader.episode_ends[-1])
    for index in range(committed):
        episode = reader.episode(index)
        assert episode.steps == reader.episode_metadata(index).steps
    # The next writer cuts any half-written tail, then appends after the whole episodes.
    with DemoStore.create_or_append(out, image_size=64, control_hz=20.0, joints=13) as store:
        assert store.num_episodes == committed
        assert all(array.shape[0] == store.num_frames for array in store.arrays.values())


@pytest.mark.slow
def test_sigterm_stops_a_collect_with_workers_cleanly(tmp_path: Path) -> None:
    """As a scheduler stops a job: exit 130, what was committed is said and kept, no worker's traceback."""
    out = tmp_path / "demos.zarr"
    process = _start_collect(out, "--image-size", "32", "--workers", "2", output=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
            try:
                if DemoStore.open(out).num_episodes >= 1:
                    break
            except StoreError:  # not created yet
                continue
        assert process.poll() is None, "collect ended before it could be stopped"
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0].decode()
    finally:
        process.kill()
    assert process.returncode == 130, output
    assert "Traceback" not in output and "interrupted" in output, output
    assert DemoStore.open(out).num_episodes >= 1


@pytest.mark.slow
def test_two_workers_record_the_same_demos_as_one(tmp_path: Path) -> None:
    stores = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}.zarr"
        args = ["--episodes", "3", "--out", str(out), "--image-size", "32", "--workers", workers]
        code, output = collect(*args)
        assert code == 0, output
        stores.append(DemoStore.open(out))
    serial, parallel = stores
    np.testing.assert_array_equal(serial.metadata_column("seed"), parallel.metadata_column("seed"))
    np.testing.assert_array_equal(serial.episode_ends, parallel.episode_ends)
    np.testing.assert_array_equal(serial["action"][:], parallel["action"][:])
    np.testing.assert_array_equal(serial["head_rgb"][:], parallel["head_rgb"][:])


def test_noisy_collection_executes_perturbed_arms_but_records_the_experts_clean_actions(
    tmp_path: Path,
) -> None:
    clean, noisy = tmp_path / "clean.zarr", tmp_path / "noisy.zarr"
    for out, noise in ((clean, "0"), (noisy, "0.05")):
        code, output = collect(
            "--episodes", "1", "--out", str(out), "--image-size", "32", "--seed", "4", "--noise", noise
        )
        assert code == 0, output
    plain, perturbed = DemoStore.open(clean).episode(0), DemoStore.open(noisy).episode(0)
    # Same scene, same expert plan: the labels start identical, but the arm went elsewhere.
    assert np.allclose(plain.action[:5], perturbed.action[:5], atol=1e-6)
    approach = slice(5, 30)
    drift = np.abs(perturbed.state[approach, :7] - plain.state[approach, :7]).max()
    assert drift > 0.01
    # The recorded label at the end (hand closed, holding) is noise-free: the hand closed on it.
    assert np.all(perturbed.action[-1, 8:] == 0.0)


def _close_tick(action: np.ndarray) -> int:
    """The first tick whose label closes the fingers past half."""
    return int(np.argmax(1.0 - action[:, 8:].mean(axis=1) > 0.5))


def test_a_tempo_varies_when_demos_close_the_hand_and_the_demos_still_grasp(tmp_path: Path) -> None:
    plain, varied = tmp_path / "plain.zarr", tmp_path / "varied.zarr"
    for out, tempo in ((plain, "0"), (varied, "1")):
        code, output = collect("--episodes", "3", "--out", str(out), "--image-size", "32", "--tempo", tempo)
        assert code == 0, output
    plain_ticks = [_close_tick(DemoStore.open(plain).episode(i).action) for i in range(3)]
    varied_ticks = [_close_tick(DemoStore.open(varied).episode(i).action) for i in range(3)]
    # Same scenes: the base rhythm closes at one tick in every demo, the varied ones later and apart.
    assert len(set(plain_ticks)) == 1
    assert min(varied_ticks) > plain_ticks[0] and len(set(varied_ticks)) == 3
    assert all(DemoStore.open(varied).metadata_column("outcome") == "")  # every kept demo grasped


def test_push_demos_started_high_land_in_the_round_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "high.zarr"
    args = ("--skill", "push_then_grasp", "--episodes", "1", "--out", str(out), "--image-size", "32")
    code, output = collect(*args, "--push-height", "0.03", "--round", "6")
    assert code == 0, output
    code, output = collect(*args, "--seed", "1")  # scripted demos default to round 0
    assert code == 0, output
    store = DemoStore.open(out)
    assert store.metadata_column("round").tolist() == [6, 0]
    assert all(store.metadata_column("outcome") == "")  # the high start still ends in a grasp


def test_noise_outside_its_range_exits_2(tmp_path: Path) -> None:
    code, output = collect("--episodes", "1", "--out", str(tmp_path / "d.zarr"), "--noise", "0.5")
    assert code == 2
    assert "noise must be in 0..0.2 rad" in " ".join(output.split())


@pytest.mark.slow
def test_an_on_policy_collect_renders_at_the_checkpoints_size_and_reads_it_once(
    tmp_path: Path, tiny_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tiny random-weight checkpoint whose demos were 48 px: its rollouts are stored at 48 px,
    as `run` and `eval` would render it, and asking for another size says which one it needs."""
    from dexagent.controller import checkpoint
    from dexagent.controller.checkpoint import save_checkpoint
    from dexagent.controller.normalizer import Normalizer
    from dexagent.controller.policy import DexGraspPolicy
    from dexagent.hardware.sim.robot import sim_robot_spec

    spec = sim_robot_spec()
    config = tiny_config(image_size=32, camera_size=48)
    policy = DexGraspPolicy(config, Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False)
    folder = str(save_checkpoint(tmp_path / "ckpt", policy))
    reads: list[str] = []
    load_file = checkpoint.load_file
    monkeypatch.setattr(checkpoint, "load_file", lambda path: reads.append(path) or load_file(path))
    out = tmp_path / "rollouts.zarr"
    code, output = collect(
        "-n", "2", "--out", str(out), "--on-policy", folder, "--objects", "1", "--seed", "3"
    )
    assert code in (0, 1), output  # random weights: the rollouts are kept whether they grasp or not
    assert DemoStore.open(out).image_size == 48
    assert reads == [str(Path(folder) / "model.safetensors")]  # the check and both rollouts share one read
    code, output = collect(
        "-n", "1", "--out", str(tmp_path / "a.zarr"), "--on-policy", folder, "--image-size", "64"
    )
    assert code == 2 and "pass --image-size 48" in " ".join(output.split())
