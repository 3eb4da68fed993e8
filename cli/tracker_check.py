"""Whether a mask tracker can run here: its options, its packages, its weight files (nothing is loaded).

`doctor` shows it as a row; `run --robot real` refuses to start (exit 2) when it fails, before any
device is connected.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from dexagent.cli.doctor_checks import OPTIONAL_PACKAGES, Check
from dexagent.controller.perception import TrackerConfigError, tracker_factory


def tracker_check(name: str, options: dict[str, Any], required: bool) -> Check:
    """Options valid, its packages importable, the weight files present (the model is not loaded)."""
    try:
        tracker_factory(name, **options)
    except TrackerConfigError as error:
        return Check("perception", f"{name} tracker", False, str(error), required)
    packages = {"sam2": ("sam2",), "sam+cutie": ("segment_anything", "cutie")}.get(name, ())
    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    if missing:
        hints = sorted({OPTIONAL_PACKAGES[p][2] for p in missing if p in OPTIONAL_PACKAGES})
        detail = f"not installed: {', '.join(missing)}" + (f" ({'; '.join(hints)})" if hints else "")
        return Check("perception", f"{name} tracker", False, detail, required)
    files = {k: v for k, v in options.items() if ("checkpoint" in k or "weights" in k) and isinstance(v, str)}
    absent = [f"{k}={v}" for k, v in files.items() if not Path(v).expanduser().is_file()]
    if absent:
        return Check(
            "perception", f"{name} tracker", False, f"weights not found: {', '.join(absent)}", required
        )
    shown = ", ".join(f"{k}={v}" for k, v in files.items()) or "no weights needed"
    return Check("perception", f"{name} tracker", True, shown, required)
