"""The MuJoCo simulation: embodiment, procedural scenes, rendering, ground truth, scripted expert."""

import os

# MuJoCo picks its GL backend when it is first imported; on a machine without a display
# only offscreen EGL works (GLFW fails), so default to it unless the user chose one.
if "MUJOCO_GL" not in os.environ and not os.environ.get("DISPLAY"):
    os.environ["MUJOCO_GL"] = "egl"
