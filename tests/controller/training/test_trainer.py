"""The training loop on tiny stores: the loss goes down, resume is exact, checkpoints hold EMA weights."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from dexagent.controller.checkpoint import STATE_TENSORS_FILE, load_checkpoint, load_training_state
from dexagent.controller.config import PolicyConfig
from dexagent.controller.data.dataset import image_bytes
from dexagent.controller.training import TrainConfig, TrainingError, setup, train
from dexagent.controller.training.checkpointing import ResumedRun
from dexagent.controller.training.setup import cameras_on_disk

torch.set_num_threads(1)


def _settings(**changes: object) -> TrainConfig:
    base: dict[str, object] = dict(
        steps=24, batch_size=8, lr=1e-3, warmup_steps=4, val_every=6, val_batches=2, save_every=8, seed=5
    )
    base.update(changes)
    return TrainConfig(**base)  # type: ignore[arg-type]


@pytest.mark.slow
def test_a_few_hundred_steps_drive_the_loss_down(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data = demo_store()
    result = train(
        data,
        tmp_path / "run",
        _settings(steps=300, batch_size=16, warmup_steps=20, val_every=50, save_every=300),
        tiny_config(),
        show_progress=False,
    )
    losses = [loss for _, loss in result.losses]
    first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    assert last < 0.5 * first, (first, last)
    assert len(result.val_losses) == 6 and result.val_losses[-1][1] < result.val_losses[0][1]
    assert result.step == 300 and result.seconds_per_step > 0


def test_resume_continues_the_loss_curve_exactly(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data = demo_store()
    whole = train(data, tmp_path / "whole", _settings(), tiny_config(), show_progress=False)

    def stop_at_13(step: int, loss: float) -> bool:
        return step == 13  # as Ctrl-C would: the step finishes, is saved, the run stops

    first = train(
        data, tmp_path / "split", _settings(), tiny_config(), show_progress=False, on_step=stop_at_13
    )
    assert first.interrupted and first.step == 13
    second = train(data, tmp_path / "split", _settings(), None, resume=True, show_progress=False)
    assert second.step == 24 and not second.interrupted
    assert first.losses + second.losses == whole.losses  # bitwise: same batches, jitter, noise, updates
    assert second.val_losses == [v for v in whole.val_losses if v[0] > 13]
    resumed = load_training_state(tmp_path / "split")
    uninterrupted = load_training_state(tmp_path / "whole")
    for name, weight in uninterrupted["model"].items():
        assert torch.equal(weight, resumed["model"][name]), name
    assert resumed["scheduler"]["last_epoch"] == uninterrupted["scheduler"]["last_epoch"] == 24


def test_the_checkpoint_records_the_size_its_demos_were_rendered_at(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    """24 px demos, a 16 px policy: `run` and `eval` must render at 24, so the checkpoint says so,
    and a resume that names the preset (which leaves the size open) is not a config mismatch."""
    data = demo_store(image_size=24)
    train(data, tmp_path / "run", _settings(steps=4), tiny_config(), show_progress=False)
    saved = load_checkpoint(tmp_path / "run").config
    assert saved.camera_size == 24 and saved.image_size == 16 and saved.render_size == 24
    assert saved.wrist_camera_size == saved.wrist_render_size == 24  # each camera's, recorded
    longer = train(
        data, tmp_path / "run", _settings(steps=6), tiny_config(), resume=True, show_progress=False
    )
    assert longer.step == 6


def test_resume_from_a_periodic_checkpoint_can_extend_the_run(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data = demo_store()
    train(data, tmp_path / "run", _settings(steps=8), tiny_config(), show_progress=False)
    longer = train(data, tmp_path / "run", _settings(steps=12), None, resume=True, show_progress=False)
    assert [step for step, _ in longer.losses] == [9, 10, 11, 12]
    assert load_training_state(tmp_path / "run")["step"] == 12


def test_checkpoint_model_holds_the_ema_weights(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    train(demo_store(), tmp_path / "run", _settings(steps=10), tiny_config(), show_progress=False)
    policy = load_checkpoint(tmp_path / "run")
    state = load_training_state(tmp_path / "run")
    params = dict(policy.named_parameters())
    for name, shadow in state["ema"]["shadow"].items():
        assert torch.equal(params[name].detach(), shadow), name
    assert any(not torch.equal(params[n].detach(), raw) for n, raw in state["model"].items())
    chunk = policy.predict_chunk(
        {k: v[:1] for k, v in _one_batch(policy).items()}, generator=torch.Generator().manual_seed(0)
    )
    assert chunk.shape == (1, 4, 13) and torch.isfinite(chunk).all()


def _one_batch(policy: torch.nn.Module) -> dict[str, torch.Tensor]:
    size = 16
    return {
        "head_rgb": torch.rand(2, 3, size, size),
        "wrist_rgb": torch.rand(2, 3, size, size),
        "head_mask": torch.zeros(2, 1, size, size),
        "first_mask": torch.zeros(2, 1, size, size),
        "state": torch.zeros(2, 13),
    }


def test_a_fresh_run_refuses_to_overwrite_a_run(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data = demo_store()
    train(data, tmp_path / "run", _settings(steps=2), tiny_config(), show_progress=False)
    with pytest.raises(TrainingError, match="already holds a training run"):
        train(data, tmp_path / "run", _settings(steps=2), tiny_config(), show_progress=False)


def test_corrupt_or_mismatched_checkpoints_are_clear_errors(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data = demo_store()
    run = tmp_path / "run"
    train(data, run, _settings(steps=4, save_every=4), tiny_config(), show_progress=False)
    with pytest.raises(TrainingError, match="differs from the requested"):
        train(data, run, _settings(steps=8), tiny_config(horizon=8), resume=True, show_progress=False)
    with pytest.raises(TrainingError, match="not the data this run started on"):
        train(demo_store(lengths=[5, 6]), run, _settings(steps=8), None, resume=True, show_progress=False)
    with pytest.raises(TrainingError, match="ask for more --steps"):
        train(data, run, _settings(steps=4), None, resume=True, show_progress=False)
    (run / STATE_TENSORS_FILE).write_bytes(b"\x00garbage")
    with pytest.raises(TrainingError, match=STATE_TENSORS_FILE):
        train(data, run, _settings(steps=8), None, resume=True, show_progress=False)
    with pytest.raises(TrainingError, match="no run to continue"):
        train(data, tmp_path / "absent", _settings(steps=8), None, resume=True, show_progress=False)


def test_bad_data_is_a_clear_error(tiny_config: Callable[..., PolicyConfig], tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="no zarr.json"):
        train(tmp_path / "missing.zarr", tmp_path / "run", _settings(), tiny_config(), show_progress=False)


def test_workers_give_the_same_losses(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data = demo_store()
    inline = train(data, tmp_path / "a", _settings(steps=6), tiny_config(), show_progress=False)
    pooled = train(data, tmp_path / "b", _settings(steps=6, workers=2), tiny_config(), show_progress=False)
    assert inline.losses == pooled.losses


def test_a_store_too_large_for_memory_trains_from_disk_with_the_same_losses(
    demo_store: Callable[..., Path],
    tiny_config: Callable[..., PolicyConfig],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Images held in memory beyond half the free memory stay on disk, read per batch (in workers
    too), and say so; what the run learns does not change."""
    data, config, settings = demo_store(), tiny_config(), _settings(steps=6)
    images = image_bytes(data)
    assert cameras_on_disk(data, settings, config, available=2 * images + 1) == []
    assert cameras_on_disk(data, settings, config, available=2 * images - 1) == ["head_rgb", "wrist_rgb"]
    in_memory = train(data, tmp_path / "a", settings, config, show_progress=False)
    assert "read from disk" not in capsys.readouterr().out
    monkeypatch.setattr(setup, "available_memory", lambda: images)
    on_disk = train(data, tmp_path / "b", _settings(steps=6, workers=1), config, show_progress=False)
    assert "head_rgb and wrist_rgb read from disk per batch" in capsys.readouterr().out.replace("\n", " ")
    assert on_disk.losses == in_memory.losses and on_disk.val_losses == in_memory.val_losses


def test_tensorboard_logs_are_written(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    train(demo_store(), tmp_path / "run", _settings(steps=6), tiny_config(), show_progress=False)
    assert list((tmp_path / "run" / "tb").glob("events.out.tfevents.*"))


def test_a_per_offset_run_saves_quantile_ranges_per_chunk_offset(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    train(demo_store(), tmp_path / "run", _settings(steps=4), tiny_config(action_range="per_offset"),
          show_progress=False)  # fmt: skip
    normalizer = load_checkpoint(tmp_path / "run").normalizer
    assert normalizer.action_min.shape == (4, 13)
    # The demo state moves at one velocity: a delta's range grows with its offset in the chunk.
    spans = (normalizer.action_max - normalizer.action_min)[:, 0]
    assert spans[0] < spans[1] < spans[2] < spans[3]


def test_augmentations_are_a_validated_setting_a_resume_keeps(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    with pytest.raises(TrainingError, match="probability must be in"):
        TrainConfig(augment=(("random_conv", 1.5),))
    augment = (("color_jitter", 1.0), ("random_conv", 1.0))
    data = demo_store()

    def stop_at_5(step: int, loss: float) -> bool:
        return step == 5

    run = tmp_path / "run"
    plain = train(data, tmp_path / "plain", _settings(steps=8), tiny_config(), show_progress=False)
    first = train(
        data, run, _settings(steps=8, augment=augment), tiny_config(), show_progress=False, on_step=stop_at_5
    )
    assert first.losses != plain.losses[:5]  # the augmentation changed the images the model saw
    second = train(data, run, _settings(steps=8), None, resume=True, show_progress=False)
    saved = load_training_state(run)["train_config"]["augment"]  # type: ignore[index]
    assert saved == augment  # the run's, not the request's
    whole = train(
        data, tmp_path / "whole", _settings(steps=8, augment=augment), tiny_config(), show_progress=False
    )
    assert first.losses + second.losses == whole.losses


def test_a_run_saved_before_obs_stride_existed_resumes_with_every_frame() -> None:
    saved = _settings().to_dict()
    del saved["obs_stride"]  # as an older dexagent wrote the run's settings
    run = ResumedRun(policy=None, state={"step": 5, "train_config": saved})  # type: ignore[arg-type]
    settings, ignored = run.settings(_settings(obs_stride=3))
    assert settings.obs_stride == 1 and ignored == ["obs_stride=3 (continuing with 1)"]


def test_a_run_with_per_flag_augmentations_of_an_older_dexagent_is_refused_loudly() -> None:
    saved = {**_settings().to_dict(), "random_conv": 0.5}  # as dexagent wrote it before `augment`
    del saved["augment"]
    run = ResumedRun(policy=None, state={"step": 5, "train_config": saved})  # type: ignore[arg-type]
    with pytest.raises(TrainingError, match=r"older dexagent with per-flag augmentations \(random_conv\)"):
        run.settings(_settings())


def test_bf16_training_keeps_fp32_weights_and_optimizer_state(
    demo_store: Callable[..., Path], tiny_config: Callable[..., PolicyConfig], tmp_path: Path
) -> None:
    data = demo_store()
    fp32 = train(data, tmp_path / "fp32", _settings(steps=6), tiny_config(), show_progress=False)
    bf16 = train(
        data, tmp_path / "bf16", _settings(steps=6, precision="bf16"), tiny_config(), show_progress=False
    )
    state = load_training_state(tmp_path / "bf16")
    assert state is not None
    assert all(weight.dtype == torch.float32 for weight in state["model"].values())
    moments = [value for entry in state["optimizer"]["state"].values() for value in entry.values()]
    assert moments and all(m.dtype == torch.float32 for m in moments if m.is_floating_point())
    assert bf16.losses != fp32.losses  # the steps did run in bf16 ...
    for (_, low), (_, full) in zip(bf16.losses, fp32.losses, strict=True):
        assert low == pytest.approx(full, rel=0.05)  # ... and agree with fp32


def test_noise_draws_are_a_setting_a_resume_keeps() -> None:
    saved = _settings(noise_draws=3).to_dict()
    run = ResumedRun(policy=None, state={"step": 5, "train_config": saved})  # type: ignore[arg-type]
    settings, ignored = run.settings(_settings())
    assert settings.noise_draws == 3 and ignored == ["noise_draws=1 (continuing with 3)"]
    with pytest.raises(TrainingError, match="noise_draws must be positive"):
        _settings(noise_draws=0)
