"""`dexagent sim video`, `run` and `eval` render a given checkpoint at one size: the one its demos had."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene

runner = CliRunner()
SEED = 3


@pytest.mark.slow
def test_sim_video_run_and_eval_render_a_checkpoint_at_the_size_its_demos_had(
    tmp_path: Path, tiny_config: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tiny random-weight checkpoint (no trained model can be downloaded) whose demos were
    rendered at 48 px and which resizes them to 32: every command renders it at 48, none at its
    input size or at the scripted default."""
    from dexagent.controller.checkpoint import save_checkpoint
    from dexagent.controller.normalizer import Normalizer
    from dexagent.controller.policy import DexGraspPolicy
    from dexagent.hardware.sim.robot import sim_robot_spec

    spec = sim_robot_spec()
    config = tiny_config(image_size=32, camera_size=48)
    policy = DexGraspPolicy(config, Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False)
    folder = str(save_checkpoint(tmp_path / "ckpt", policy))
    rendered: dict[str, set[int]] = {}
    command = ""
    init = SimRobot.__init__

    def recording_init(self: SimRobot, *args: object, **kwargs: object) -> None:
        init(self, *args, **kwargs)  # type: ignore[arg-type]
        rendered.setdefault(command, set()).add(self.image_size)

    monkeypatch.setattr(SimRobot, "__init__", recording_init)
    target = next(p.spec for p in sample_scene(SEED, n_objects=2).objects if not p.spec.flat)
    prompt = "grasp the " + target.name.replace("_", " ")
    commands = {
        "sim video": ["sim", "video", "--controller", folder, "--seed", str(SEED), "--objects", "1",
                      "--out", str(tmp_path / "episode.mp4")],
        "run": ["run", prompt, "--controller", folder, "--seed", str(SEED), "--objects", "2",
                "--no-realtime", "--no-live", "--max-seconds", "2"],
        "eval": ["eval", "--controller", folder, "--suite", "single-object", "--episodes", "1"],
    }  # fmt: skip
    for command, args in commands.items():
        result = runner.invoke(app, args)
        assert "Traceback" not in result.output, result.output
        assert result.exit_code in (0, 1), (command, result.output)  # random weights may not grasp
    assert rendered == {"sim video": {48}, "run": {48}, "eval": {48}}
