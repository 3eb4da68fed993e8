"""Policy configs: named configs, JSON round trip, clear errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from dexagent.controller.config import ConfigError, PolicyConfig, get_config


@pytest.mark.parametrize("name", ["sim", "paper", "sim-cnn", "sim-no-mask"])
def test_named_config_survives_a_json_round_trip(name: str, tmp_path: Path) -> None:
    config = get_config(name)
    path = tmp_path / "config.json"
    path.write_text(config.to_json())
    assert PolicyConfig.from_json(path) == config
    assert get_config(str(path)) == config


def test_paper_config_has_the_official_figures() -> None:
    config = get_config("paper")
    assert (config.image_size, config.horizon, config.execute_steps) == (518, 64, 6)
    assert (config.dit.depth, config.dit.heads, config.dit.width) == (12, 8, 1024)
    assert (config.train_timesteps, config.inference_steps, config.mask_encoder.depth) == (50, 16, 4)
    assert config.head_encoder.source == "facebook/dinov2-base" and config.head_encoder.frozen
    assert config.wrist_encoder.source == "facebook/dinov2-large" and config.head_grid == 37


def test_unknown_config_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown policy config 'huge'"):
        get_config("huge")


def test_unknown_field_in_json_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"horizon": 8, "hidden": 3}')
    with pytest.raises(ConfigError, match=r"bad.json: unknown field 'hidden'"):
        PolicyConfig.from_json(path)


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n"horizon": 8,\n}')
    with pytest.raises(ConfigError, match=r"broken.json: line 3"):
        PolicyConfig.from_json(path)


def test_inconsistent_values_are_rejected(tiny_config) -> None:
    with pytest.raises(ConfigError, match="execute_steps"):
        tiny_config(execute_steps=20)
    with pytest.raises(ConfigError, match="not a multiple"):
        tiny_config(image_size=30)


def test_input_norm_is_checked_per_camera(tiny_config) -> None:
    from dataclasses import replace

    base = tiny_config()
    with pytest.raises(ConfigError, match=r"wrist_encoder.input_norm must be one of"):
        tiny_config(wrist_encoder=replace(base.wrist_encoder, input_norm="batch"))
    dinov2 = replace(base.head_encoder, kind="dinov2", input_norm="instance")
    with pytest.raises(ConfigError, match=r"head_encoder: dinov2 .* input_norm must be 'imagenet'"):
        tiny_config(head_encoder=dinov2)


def test_each_camera_may_have_its_own_size_and_one_size_stays_the_default(tiny_config) -> None:
    one_size = tiny_config(camera_size=48)  # a checkpoint from before cameras had sizes of their own
    assert (one_size.wrist_input_size, one_size.wrist_render_size) == (32, 48)
    own = tiny_config(image_size=224, wrist_image_size=96)  # a DINOv2 head beside a wrist CNN
    assert (own.input_size("head_rgb"), own.input_size("wrist_rgb")) == (224, 96)
    assert (own.render_size, own.wrist_render_size) == (224, 96)  # render what the encoders read
    trained = tiny_config(image_size=112, wrist_image_size=48, camera_size=224, wrist_camera_size=96)
    assert (trained.render_size, trained.wrist_render_size) == (224, 96)  # the store's, as recorded
    assert PolicyConfig.from_dict(trained.to_dict()) == trained
    with pytest.raises(ConfigError, match="wrist_encoder: wrist_image_size 36 is not a multiple of"):
        tiny_config(wrist_image_size=36)
    with pytest.raises(ConfigError, match="wrist_camera_size must be in 16..4096 pixels, got 8"):
        tiny_config(wrist_camera_size=8)
    with pytest.raises(ConfigError, match="wrist_image_size must be an integer in 1..4096"):
        tiny_config(wrist_image_size=0)
