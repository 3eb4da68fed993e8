"""Settings every test shares."""

import os

# Rich wraps CLI messages at the terminal width (80 when not a terminal), so a long temp
# path can split a phrase a test looks for; a wide virtual terminal keeps messages whole.
os.environ["COLUMNS"] = "240"
os.environ.setdefault("MUJOCO_GL", "egl")
