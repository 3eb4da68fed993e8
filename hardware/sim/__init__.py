"""The MuJoCo simulation: embodiment, procedural scenes, rendering, ground truth, scripted expert."""

import os

# The one place dexagent picks MuJoCo's GL backend, before any module here imports mujoco (it
# reads MUJOCO_GL then): offscreen EGL works with and without a display, GLFW needs one. A
# user's own MUJOCO_GL wins.
os.environ.setdefault("MUJOCO_GL", "egl")
