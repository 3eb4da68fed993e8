"""Make the simulated devices beside these tests importable (tests run in importlib mode)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_cli import real_cli  # noqa: E402, F401  (the fixture)
from real_rig import rig  # noqa: E402, F401  (the fixture)
