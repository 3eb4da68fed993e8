"""MuJoCo's GL backend is chosen in one place, hardware/sim/__init__.py, and only when the user has not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[3]
SHOW_BACKEND = "import os, dexagent.hardware.sim; print(os.environ['MUJOCO_GL'])"


@pytest.mark.parametrize(("given", "expected"), [(None, "egl"), ("osmesa", "osmesa")])
def test_the_sim_defaults_to_egl_and_keeps_a_users_choice(given: str | None, expected: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "MUJOCO_GL"}
    if given is not None:
        env["MUJOCO_GL"] = given
    env["DISPLAY"] = ":0"  # a display does not change the default: EGL renders with or without one
    shown = subprocess.run(
        [sys.executable, "-c", SHOW_BACKEND], env=env, capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == expected


def test_no_other_module_of_the_package_sets_the_backend() -> None:
    setters = [
        str(path.relative_to(PACKAGE_ROOT))
        for folder in ("agent", "skills", "trees", "controller", "hardware", "cli")
        for path in (PACKAGE_ROOT / folder).rglob("*.py")
        if 'environ.setdefault("MUJOCO_GL"' in path.read_text()
        or 'environ["MUJOCO_GL"] =' in path.read_text()
    ]
    assert setters == ["hardware/sim/__init__.py"]
