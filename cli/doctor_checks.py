"""What `dexagent doctor` checks about this machine: Python, torch and GPU, MuJoCo rendering,
optional packages, shipped weights, the VLM endpoint. Every check is bounded in time."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass

from dexagent.controller.factory import default_checkpoint
from dexagent.controller.skill_spec import CONTROLLED_SKILLS


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table. `required`: the chosen configuration cannot run without it."""

    area: str
    name: str
    ok: bool
    detail: str
    required: bool = True


# import name -> (distribution, what it is for, how to install)
OPTIONAL_PACKAGES = {
    "segment_anything": ("segment-anything", "sam+cutie tracker (SAM)", "pip install 'dexagent[perception]'"),
    "sam2": ("sam2", "sam2 tracker", "SAM2_BUILD_CUDA=0 pip install 'dexagent[perception]'"),
    "cutie": (
        "rf-cutie",
        "sam+cutie tracker (Cutie)",
        "pip install 'dexagent[perception]' (rf-cutie, never PyPI's 'cutie'); weights: cutie-base-mega.pth "
        "from Cutie's v1.0 release, passed as cutie_weights=PATH, the ImageNet ResNet files beside it",
    ),
    "pyrealsense2": ("pyrealsense2", "RealSense cameras", "pip install 'dexagent[real]' + apt libusb-1.0-0"),
    "Robotic_Arm": ("robotic-arm", "RealMan arm SDK", "pip install 'dexagent[real]'"),
    "pymodbus": ("pymodbus", "Modbus hand", "pip install 'dexagent[real]'"),
}
REAL_PACKAGES = ("pyrealsense2", "Robotic_Arm", "pymodbus")

_RENDER_PROBE = """
import mujoco
xml = '<mujoco><worldbody><light pos="0 0 1"/><geom size=".1"/></worldbody></mujoco>'
model = mujoco.MjModel.from_xml_string(xml)
data = mujoco.MjData(model)
mujoco.mj_forward(model, data)
renderer = mujoco.Renderer(model, 16, 16)
renderer.update_scene(data)
print(renderer.render().shape)
"""


def system_checks() -> list[Check]:
    checks = [
        Check(
            "system",
            "python",
            sys.version_info >= (3, 11),
            f"{platform.python_version()} on {platform.platform()}",
        )
    ]
    try:
        import torch

        if torch.cuda.is_available():
            gpu = f"CUDA {torch.version.cuda}: {torch.cuda.get_device_name(0)}"
        else:
            gpu = "no CUDA GPU (CPU only: fine for the sim controller)"
        checks.append(Check("system", "torch", True, f"{torch.__version__}; {gpu}"))
    except Exception as error:  # a broken install: say so
        checks.append(Check("system", "torch", False, f"cannot import torch: {error}"))
    return checks


def mujoco_check(timeout_s: float) -> Check:
    """Render one tiny frame offscreen in a child process (a GL backend can hang or abort)."""
    backend = os.environ.get("MUJOCO_GL", "egl")
    env = {**os.environ, "MUJOCO_GL": backend}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _RENDER_PROBE], capture_output=True, text=True, timeout=timeout_s, env=env
        )
    except subprocess.TimeoutExpired:
        return Check(
            "sim", "mujoco rendering", False, f"MUJOCO_GL={backend}: no frame within {timeout_s:g} s"
        )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
        hint = " (Debian: apt-get install libegl1 libgl1-mesa-dri libglx-mesa0)" if backend == "egl" else ""
        return Check("sim", "mujoco rendering", False, f"MUJOCO_GL={backend}: {last}{hint}")
    version = importlib.metadata.version("mujoco")
    return Check("sim", "mujoco rendering", True, f"mujoco {version}, MUJOCO_GL={backend}: renders")


def package_checks(required: tuple[str, ...]) -> list[Check]:
    checks = []
    for module, (distribution, purpose, install) in OPTIONAL_PACKAGES.items():
        needed = module in required
        try:
            importlib.import_module(module)
        except Exception as error:  # ImportError, or a missing system library (OSError)
            reason = "not installed" if isinstance(error, ModuleNotFoundError) else f"broken: {error}"
            checks.append(Check("packages", module, False, f"{purpose}: {reason}; {install}", needed))
            continue
        try:
            version = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            version = "installed from source"
        checks.append(Check("packages", module, True, f"{purpose}: {version}", needed))
    return checks


def weight_checks() -> list[Check]:
    checks = []
    for skill in CONTROLLED_SKILLS.names():
        folder = default_checkpoint(skill)
        found = (folder / "config.json").is_file()
        detail = (
            str(folder) if found else f"no shipped checkpoint in {folder} (use --controller PATH or scripted)"
        )
        checks.append(Check("weights", f"{skill} controller", found, detail, required=False))
    return checks


def planner_check(base_url: str, timeout_s: float) -> Check:
    """Whether an OpenAI-compatible server answers GET {base_url}/models."""
    url = base_url.rstrip("/") + "/models"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {os.environ.get('OPENAI_API_KEY', 'EMPTY')}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return Check("planner", "VLM endpoint", True, f"{url}: HTTP {response.status}")
    except urllib.error.HTTPError as error:
        return Check("planner", "VLM endpoint", error.code < 500, f"{url}: HTTP {error.code}")
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        return Check("planner", "VLM endpoint", False, f"{url}: unreachable ({reason})")
