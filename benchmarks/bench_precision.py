"""fp32 vs bf16 per stage, in one process, and the precision the project chooses for each here.

One line per stage, `STAGE: fp32 A ms, bf16 B ms, ratio R, chosen P` (R = fp32 / bf16 time; P =
the default of controller/precision.py on this machine). Stages: the frozen DINOv2-S/14 per image
at 112 and 224 px (batch 16; bf16 = weights cast to bf16, as the feature cache and live inference
run it), one chunk of every CPU preset (`predict_chunk`, batch 1, its inference draws), one
training step of every CPU preset (batch 64, AdamW; frozen encoders' features as the cache serves
them; bf16 = autocast). Both precisions of a stage run alternately in the same process, so a busy
machine slows both alike; each figure is the median of its repeats.

    python benchmarks/bench_precision.py --threads 1
    python benchmarks/bench_precision.py --threads 1 --configs sim-cnn --repeats 10

Weights are random (timing does not depend on them); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from dexagent.controller.config import PolicyConfig, get_config
from dexagent.controller.encoders import Dinov2Encoder, token_count
from dexagent.controller.policy import DexGraspPolicy
from dexagent.controller.precision import Precision, Stage, autocast, bf16_units, default_precision

ACTION_DIM = 13  # the sim robot's joints: 7 arm + 6 hand

# The presets that train and run on a CPU; `paper` (518 px, ViT-B/L, a 1024-wide DiT) is a GPU config.
CPU_PRESETS = ("sim", "sim-cnn", "sim-dinov2-head", "sim-no-mask")
CPU = torch.device("cpu")


def _median_pair(runs: dict[Precision, Callable[[], object]], repeats: int) -> dict[Precision, float]:
    """Median ms of each callable, run alternately after one warm-up each."""
    for run in runs.values():
        run()
    times: dict[Precision, list[float]] = {precision: [] for precision in runs}
    for _ in range(repeats):
        for precision, run in runs.items():
            start = time.perf_counter()
            run()
            times[precision].append((time.perf_counter() - start) * 1000)
    return {precision: statistics.median(values) for precision, values in times.items()}


def _line(stage: str, times: dict[Precision, float], chosen: Precision) -> str:
    fp32, bf16 = times["fp32"], times["bf16"]
    return f"{stage}: fp32 {fp32:.1f} ms, bf16 {bf16:.1f} ms, ratio {fp32 / bf16:.2f}, chosen {chosen}"


def _chosen(stage: Stage, config: PolicyConfig) -> Precision:
    return default_precision(stage, config, "cpu", bf16_units(CPU) is not None)


def dinov2_stage(image_size: int, repeats: int) -> str:
    """Per image, batch 16: fp32 weights vs a bf16 copy of the same weights."""
    torch.manual_seed(0)
    encoders = {
        p: Dinov2Encoder(get_config("sim").head_encoder, image_size, load_pretrained=False).eval()
        for p in ("fp32", "bf16")
    }
    encoders["bf16"].load_state_dict(encoders["fp32"].state_dict())
    encoders["bf16"].model.to(torch.bfloat16)
    images = torch.rand(16, 3, image_size, image_size, generator=torch.Generator().manual_seed(0))

    def encode(precision: Precision) -> Callable[[], object]:
        return lambda: encoders[precision](images)

    with torch.inference_mode():
        times = _median_pair({"fp32": encode("fp32"), "bf16": encode("bf16")}, repeats)
    per_image = {precision: ms / len(images) for precision, ms in times.items()}
    return _line(f"DINOv2-S/14 {image_size} px per image", per_image, _chosen("features", get_config("sim")))


def _batch(config: PolicyConfig, batch_size: int, cached: bool) -> dict[str, torch.Tensor]:
    """Inputs of `batch_size` samples; frozen cameras as cached features when `cached`."""
    generator = torch.Generator().manual_seed(0)
    size = config.image_size
    mask = torch.zeros(batch_size, 1, size, size)
    mask[..., size // 2 : size // 2 + size // 8, size // 3 : size // 3 + size // 8] = 1
    batch = {
        "head_mask": mask,
        "first_mask": mask.clone(),
        "state": torch.randn(batch_size, ACTION_DIM, generator=generator) * 0.1,
        "tick": torch.zeros(batch_size),
        "action": torch.randn(batch_size, config.horizon, ACTION_DIM, generator=generator) * 0.1,
    }
    for camera, encoder in (("head", config.head_encoder), ("wrist", config.wrist_encoder)):
        side = config.input_size(camera)
        if cached and encoder.frozen:
            shape = (batch_size, token_count(encoder, side), encoder.width)
            batch[f"{camera}_features"] = torch.randn(shape, generator=generator)
        else:
            batch[f"{camera}_rgb"] = torch.rand(batch_size, 3, side, side, generator=generator)
    return batch


def _policies(config: PolicyConfig) -> dict[Precision, DexGraspPolicy]:
    """Two copies of one random policy; the bf16 one holds its frozen encoders in bf16."""
    torch.manual_seed(0)
    fp32 = DexGraspPolicy(config, load_pretrained=False)
    bf16 = DexGraspPolicy(config, load_pretrained=False)
    bf16.load_state_dict(fp32.state_dict())
    bf16.cast_frozen_encoders("bf16")
    return {"fp32": fp32, "bf16": bf16}


def chunk_stage(name: str, repeats: int) -> str:
    config = get_config(name).for_joints(ACTION_DIM)
    policies = {precision: policy.eval() for precision, policy in _policies(config).items()}
    batch = _batch(config, 1, cached=False)
    batch.pop("action")

    def chunk(precision: Precision) -> Callable[[], object]:
        return lambda: policies[precision].predict_chunk(batch, torch.Generator().manual_seed(0), precision)

    times = _median_pair({"fp32": chunk("fp32"), "bf16": chunk("bf16")}, repeats)
    return _line(f"{name} chunk ({config.inference_samples} draws)", times, _chosen("inference", config))


def train_stage(name: str, repeats: int, batch_size: int) -> str:
    config = get_config(name).for_joints(ACTION_DIM)
    policies = {precision: policy.train() for precision, policy in _policies(config).items()}
    optimizers = {
        precision: torch.optim.AdamW([p for p in policy.parameters() if p.requires_grad], lr=1e-4)
        for precision, policy in policies.items()
    }
    batch = _batch(config, batch_size, cached=True)

    def step(precision: Precision) -> Callable[[], object]:
        def run() -> None:
            with autocast(precision, CPU):
                loss = policies[precision].compute_loss(batch)
            loss.backward()
            optimizers[precision].step()
            optimizers[precision].zero_grad(set_to_none=True)

        return run

    times = _median_pair({"fp32": step("fp32"), "bf16": step("bf16")}, repeats)
    return _line(f"{name} training step (batch {batch_size})", times, _chosen("training", config))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--configs", nargs="+", default=list(CPU_PRESETS), help="presets for the chunk and step"
    )
    parser.add_argument("--repeats", type=int, default=8, help="timed runs per precision and stage")
    parser.add_argument("--batch", type=int, default=64, help="training batch size")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    units = bf16_units(CPU)
    print(f"torch {torch.__version__}, {args.threads} thread(s), CPU bf16 units: {units or 'none'}")
    for size in (112, 224):
        print(dinov2_stage(size, args.repeats), flush=True)
    for name in args.configs:
        print(chunk_stage(name, args.repeats), flush=True)
    for name in args.configs:
        print(train_stage(name, max(3, args.repeats // 2), args.batch), flush=True)


if __name__ == "__main__":
    main()
