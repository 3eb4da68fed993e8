"""`--set FIELD=VALUE` overrides of a policy config: typed, dotted into parts, errors that name the field."""

from __future__ import annotations

import pytest

from dexagent.controller.config import ConfigError, get_config
from dexagent.controller.config_overrides import apply_overrides, canonical


def test_overrides_set_nested_and_top_level_fields_by_their_types() -> None:
    config = apply_overrides(
        get_config("sim-cnn"),
        [
            "dit.depth=6",
            "head_encoder.pool=1",
            "head_encoder.input_norm=imagenet",
            "use_mask=false",
            "dit.mlp_ratio=2.5",
            "camera_size=none",
            "wrist_encoder.channels=8,16,32",
        ],
    )
    assert config.dit.depth == 6 and config.dit.mlp_ratio == 2.5
    assert config.head_encoder.pool == 1 and config.head_encoder.input_norm == "imagenet"
    assert config.wrist_encoder.channels == (8, 16, 32) and config.wrist_encoder.pool == 2
    assert config.use_mask is False and config.camera_size is None
    assert config.name == "sim-cnn"  # the preset the recipe starts from


def test_no_overrides_give_the_config_itself() -> None:
    config = get_config("sim")
    assert apply_overrides(config, []) is config


def test_overrides_that_only_fit_together_are_checked_as_a_whole() -> None:
    # A 2-stage CNN has patch size 4: either override alone is inconsistent, both together are not.
    config = apply_overrides(
        get_config("sim-cnn"), ["head_encoder.channels=16,32", "head_encoder.patch_size=4"]
    )
    assert config.head_encoder.patch_size == 4


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("dit.dpeth=6", "no field 'dpeth'; dit has width, depth, heads, mlp_ratio, dropout"),
        ("horizn=8", "no field 'horizn'; a policy config has name, image_size"),
        ("dit=6", "dit is a group of fields; set one of dit.width, dit.depth"),
        ("horizon.size=3", "horizon is a value, not a group"),
        ("dit.depth=six", "dit.depth must be an integer"),
        ("dit.dropout=lots", "dit.dropout must be a number"),
        ("use_mask=maybe", "use_mask is true or false"),
        ("head_encoder.input_norm=batch", "head_encoder.input_norm must be one of imagenet, instance"),
        ("wrist_encoder.kind=pixels", "wrist_encoder.kind must be one of dinov2, cnn"),
        ("action_mode=velocity", "action_mode must be one of absolute, delta"),
        ("dit.depth=0", "dit.depth must be an integer in 1..256, got 0"),
        ("head_encoder.pool=5", "head_encoder: image_size 96 is not a multiple of patch_size*pool = 40"),
        ("dit.depth", "expected FIELD=VALUE"),
    ],
)
def test_a_bad_override_names_the_field_and_what_it_allows(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match="--set") as error:
        apply_overrides(get_config("sim-cnn"), [override])
    assert message in str(error.value)


def test_overrides_are_recorded_without_spaces() -> None:
    assert canonical([" dit.depth = 6", "use_mask=false"]) == ("dit.depth=6", "use_mask=false")
