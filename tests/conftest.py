"""Settings and the tiny policy config every test shares."""

import os
from collections.abc import Callable

import pytest

# Rich wraps CLI messages at the terminal width (80 when not a terminal), so a long temp
# path can split a phrase a test looks for; a wide virtual terminal keeps messages whole.
os.environ["COLUMNS"] = "240"
os.environ.setdefault("MUJOCO_GL", "egl")


def _tiny_config(**overrides: object):  # -> PolicyConfig (imported lazily: not every test needs torch)
    """A policy small enough for a CPU test: 32 px, 4x4 token grids, 2-layer 32-wide DiT."""
    from dexagent.controller.config import DiTConfig, EncoderConfig, MaskEncoderConfig, PolicyConfig

    values: dict[str, object] = dict(
        name="tiny",
        image_size=32,
        head_encoder=EncoderConfig(kind="cnn", width=16, patch_size=4, channels=(8, 16), pool=2),
        wrist_encoder=EncoderConfig(kind="cnn", width=16, patch_size=4, channels=(8, 16), pool=2),
        mask_encoder=MaskEncoderConfig(width=16, depth=1, heads=2),
        dit=DiTConfig(width=32, depth=2, heads=2),
        horizon=8,
        execute_steps=4,
        train_timesteps=20,
        inference_steps=4,
    )
    values.update(overrides)
    return PolicyConfig(**values)  # type: ignore[arg-type]


# Test modules are not importable from each other (importlib mode): shared helpers travel as fixtures.
@pytest.fixture
def tiny_config() -> Callable[..., object]:
    """Factory: tiny_config(**overrides) -> a tiny random-initialisable PolicyConfig."""
    return _tiny_config
