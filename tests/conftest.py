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
