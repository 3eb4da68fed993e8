"""Numeric precision per stage: fp32 or bf16, with the default each stage measured faster.

Three stages choose their precision on their own, because they measured differently on CPUs
with bf16 matrix units (AMX-BF16, AVX512-BF16; `benchmarks/bench_precision.py`):
- "features": the frozen encoders (DINOv2), wherever they run: the feature cache, training on
  the fly, live inference. In bf16 their weights are cast to bf16 (faster than autocast):
  3-4x faster than fp32 per image at 112 and 224 px.
- "inference": a whole action chunk (`run`, `eval`, the background chunk thread). In bf16 the
  frozen encoders run in bf16 as above and everything else under bf16 autocast, the sampler's
  arithmetic staying fp32. A chunk with a frozen DINOv2 runs 2-2.5x faster; the small CNN and
  DiT of `sim-cnn` alone run slower under autocast (0.7x), so a config without a frozen encoder
  defaults to fp32.
- "training": a training step under bf16 autocast; the weights the optimizer updates and its
  state stay fp32. At the sim configs' sizes every step measured slower on CPU (0.6-1.0x), so
  CPU training defaults to fp32.

On CUDA every stage defaults to bf16 (autocast, the usual path); where the device has no bf16
units every stage defaults to fp32 (bf16 would be emulated, slower).
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dexagent.controller.config import PolicyConfig

# torch loads inside the functions: the CLI imports the names here and `dexagent --help` stays fast.
if TYPE_CHECKING:
    import torch

Precision = Literal["fp32", "bf16"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "bf16")
# "auto": the stage's measured default on the device it runs on (`default_precision`).
PrecisionChoice = Literal["auto", "fp32", "bf16"]
PRECISION_CHOICES: tuple[PrecisionChoice, ...] = ("auto", "fp32", "bf16")
Stage = Literal["features", "inference", "training"]

# /proc/cpuinfo flags of the units that run bf16 matrix products natively.
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


class PrecisionError(ValueError):
    """A precision name is not one of fp32, bf16 (or auto where a default may be chosen)."""


def check_choice(choice: str, where: str = "precision") -> PrecisionChoice:
    """`choice` as a PrecisionChoice, or PrecisionError naming the valid ones."""
    if choice not in PRECISION_CHOICES:
        raise PrecisionError(f"{where} must be one of {', '.join(PRECISION_CHOICES)}, got {choice!r}")
    return choice  # type: ignore[return-value]


def cpu_flags_have_bf16(flags: str) -> bool:
    """Whether a /proc/cpuinfo `flags` line names a native bf16 unit."""
    names = set(flags.split())
    return any(flag in names for flag in BF16_CPU_FLAGS)


@functools.cache
def cpu_bf16_units() -> str | None:
    """The CPU's native bf16 units ("AMX-BF16+AVX512-BF16", ...) or None."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:  # not Linux: torch's own check of the instruction set
        import torch

        return "AVX512-BF16" if torch.cpu._is_avx512_bf16_supported() else None
    flags = next((line for line in lines if line.startswith("flags")), "").split()
    found = [name.upper().replace("_", "-") for name in BF16_CPU_FLAGS if name in flags]
    return "+".join(found) or None


def bf16_units(device: torch.device) -> str | None:
    """What runs bf16 natively on `device` (a CPU unit, "CUDA"), or None."""
    if device.type == "cuda":
        import torch

        return "CUDA" if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":
        return cpu_bf16_units()
    return None


def default_precision(stage: Stage, config: PolicyConfig, device_type: str, has_bf16: bool) -> Precision:
    """The precision `stage` measured faster in for `config` on a device of this type (see module doc)."""
    if not has_bf16:
        return "fp32"
    if device_type == "cuda" or stage == "features":
        return "bf16"
    if stage == "inference":
        frozen = any(encoder.frozen and encoder.kind == "dinov2" for _, encoder in config.encoders())
        return "bf16" if frozen else "fp32"
    return "fp32"  # training on CPU


def resolve_precision(
    choice: PrecisionChoice, stage: Stage, config: PolicyConfig, device: torch.device
) -> tuple[Precision, str]:
    """The precision to use and a line saying why, for the output (`choice` "auto" takes the default)."""
    units = bf16_units(device)
    if choice != "auto":
        return choice, f"{stage} precision {choice} (asked for)"
    chosen = default_precision(stage, config, device.type, units is not None)
    where = f"this {device.type.upper()} has {units}" if units else f"no bf16 units on this {device.type}"
    return chosen, f"{stage} precision {chosen} (the measured default; {where})"


def autocast(precision: Precision, device: torch.device) -> contextlib.AbstractContextManager[None]:
    """bf16 autocast on `device` for bf16, nothing for fp32."""
    import torch

    if precision == "bf16":
        return torch.autocast(device.type, torch.bfloat16)
    return contextlib.nullcontext()


def torch_dtype(precision: Precision) -> torch.dtype:
    import torch

    return torch.bfloat16 if precision == "bf16" else torch.float32
