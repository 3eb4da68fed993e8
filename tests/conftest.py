"""Settings and the tiny policy config every test shares."""

import os
from collections.abc import Callable
from pathlib import Path

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
        state_dim=13,  # the sim robot's joints: 7 arm + 6 hand
        action_dim=13,
    )
    values.update(overrides)
    return PolicyConfig(**values)  # type: ignore[arg-type]


# Test modules are not importable from each other (importlib mode): shared helpers travel as fixtures.
@pytest.fixture
def tiny_config() -> Callable[..., object]:
    """Factory: tiny_config(**overrides) -> a tiny random-initialisable PolicyConfig."""
    return _tiny_config


# A small store of smooth synthetic episodes (a moving disc on a gradient) for the data-format and
# `dexagent data` tests: smooth, because lossy video codecs are judged on pictures like camera
# frames, not on noise.
SMOOTH_SIZE = 32


def _smooth_episode(
    steps: int, seed: int, size: int = SMOOTH_SIZE, joints: int = 13, wrist: int | None = None
):  # -> (frames, metadata); `wrist`: the wrist camera's own size, a divisor of `size`
    import numpy as np

    from dexagent.controller.data import EpisodeFrames, EpisodeMetadata

    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size]
    background = np.stack([xs * 200 // size, ys * 200 // size, np.full_like(xs, 90)], axis=-1)
    head, masks = [], []
    for t in range(steps):
        disc = (xs - size / 4 - t * 0.7 - seed) ** 2 + (ys - size / 3 - seed) ** 2 < (size / 8) ** 2
        image = background.copy()
        image[disc] = (220, 50, 40)
        head.append(image.astype(np.uint8))
        masks.append(disc)
    head_rgb, head_mask = np.stack(head), np.stack(masks)
    step = size // (wrist or size)
    frames = EpisodeFrames(
        action=rng.normal(size=(steps, joints)).astype(np.float32),
        state=rng.normal(size=(steps, joints)).astype(np.float32),
        head_rgb=head_rgb,
        head_mask=head_mask,
        wrist_rgb=np.ascontiguousarray(head_rgb[:, ::-1][:, ::step, ::step]),
        head_table=ys[None].repeat(steps, 0) > size // 2,
        wrist_table=np.ascontiguousarray(head_mask[:, :, ::-1][:, ::step, ::step]),
    )
    ys_box, xs_box = np.nonzero(head_mask[0])
    metadata = EpisodeMetadata(
        seed=seed,
        split=("seen", "unseen-objects")[seed % 2],
        skill="grasp",
        target_name="red_apple",
        target_category="fruit",
        target_colour="red",
        target_tags=("fruit", "red"),
        instruction=("grasp the red apple", "grasp the red ball")[seed % 2],
        target_box=(
            float(xs_box.min()),
            float(ys_box.min()),
            float(xs_box.max() + 1),
            float(ys_box.max() + 1),
        ),
        steps=steps,
    )
    return frames, metadata


@pytest.fixture
def make_smooth_store(tmp_path: Path) -> Callable[..., object]:
    """Factory: a DemoStore at tmp_path/NAME with one smooth episode per entry of `lengths`, of a
    robot with `joints` joints (13: the sim's), its wrist camera `wrist` px (None: `size`)."""
    from dexagent.controller.data import DemoStore

    def make(
        name: str = "demos.zarr",
        lengths: tuple[int, ...] = (6, 9, 7),
        size: int = SMOOTH_SIZE,
        joints: int = 13,
        wrist: int | None = None,
    ) -> DemoStore:
        path = tmp_path / name
        with DemoStore.create_or_append(
            path, image_size=size, wrist_size=wrist, control_hz=20.0, joints=joints
        ) as store:
            for seed, steps in enumerate(lengths):
                store.append_episode(*_smooth_episode(steps, seed, size, joints, wrist))
        return DemoStore.open(path)

    return make


# The fault table (tests/FAULTS.md): fault-injection tests record one row each, and the table
# is printed at the end of the session, so every CI log carries the figures.
FAULT_ROWS: list[tuple[str, str, str, str, str]] = []


@pytest.fixture
def fault_row() -> Callable[..., None]:
    """record(fault, exit_code, seconds, traceback, data_lost): one row of the fault table."""

    def record(
        fault: str, exit_code: int | str, seconds: float | None, traceback: str, data_lost: str
    ) -> None:
        shown_seconds = "-" if seconds is None else f"{seconds:.2f}"
        FAULT_ROWS.append((fault, str(exit_code), shown_seconds, traceback, data_lost))

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FAULT_ROWS:
        return
    terminalreporter.section("fault table (tests/FAULTS.md)")
    terminalreporter.write_line(
        "| fault or bad input | exit code | seconds to exit | traceback | data lost |"
    )
    terminalreporter.write_line("|---|---|---|---|---|")
    for row in FAULT_ROWS:
        terminalreporter.write_line("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
