"""Chunk latency of the DiT controller: optimized sampling vs the naive eager baseline, one run.

Optimized (`predict_chunk`): observation tokens and every block's cross-attention K/V are
computed once per chunk and reused by all DDIM steps, under inference_mode (fp32 on CPU,
bf16 autocast on CUDA, optionally torch.compile of the DiT; `bench_precision.py` compares fp32
and bf16). Naive (`predict_chunk_naive`): re-encodes
the observation (encoders, projections, K/V) at every denoising step.

    python benchmarks/bench_chunk_latency.py                       # sim timed, paper FLOPs on CPU
    python benchmarks/bench_chunk_latency.py --configs sim --repeats 20
    python benchmarks/bench_chunk_latency.py --device cuda --compile
    python benchmarks/bench_chunk_latency.py --configs sim-cnn --draws 4 16 64 --threads 1

--draws times the optimized chunk again with each number of averaged DDIM draws
(`inference_samples`) in place of the config's own, against the config's own in the same process.

Weights are random (timing does not depend on them); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from dexagent.controller.config import PolicyConfig, get_config
from dexagent.controller.policy import DexGraspPolicy

ACTION_DIM = 13  # the sim robot's joints: 7 arm + 6 hand


def _batch(policy: DexGraspPolicy, device: torch.device) -> dict[str, torch.Tensor]:
    size = policy.config.image_size
    generator = torch.Generator().manual_seed(0)
    mask = torch.zeros(1, 1, size, size)
    mask[..., size // 2 : size // 2 + max(2, size // 16), size // 3 : size // 3 + max(2, size // 16)] = 1
    batch = {
        "head_rgb": torch.rand(1, 3, size, size, generator=generator),
        "wrist_rgb": torch.rand(1, 3, *(policy.config.wrist_input_size,) * 2, generator=generator),
        "head_mask": mask,
        "first_mask": mask.clone(),
        "state": torch.zeros(1, 13),
        "tick": torch.zeros(1),  # read by configs with time_input (sim), ignored by the others
    }
    return {k: v.to(device) for k, v in batch.items()}


def _time(fn, repeats: int, device: torch.device) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _count(fn) -> int:  # type: ignore[no-untyped-def]
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops()


def chunk_flops(config: PolicyConfig) -> tuple[float, float]:
    """FLOPs of one optimized and one naive chunk (batch 1), counted on the meta device.

    Each component is run once under FlopCounterMode (nothing is computed on meta, so the
    paper config takes seconds); the two samplers are sums of the same components:
    optimized = encode + K/V + adaLN(all steps) + steps x DiT step,
    naive = steps x (encode + K/V + adaLN(1 step) + DiT step).
    """
    with torch.device("meta"):
        policy = DexGraspPolicy(config, load_pretrained=False).eval()
    batch = {k: v.to("meta") for k, v in _batch(policy, torch.device("cpu")).items()}
    steps = config.inference_steps
    with torch.inference_mode():
        observation = policy.encode_observation(batch)
        kv = policy.dit.context_kv(observation)
        t1 = torch.zeros(1, dtype=torch.long, device="meta")
        mods = policy.dit.modulation(t1)
        sample = torch.zeros(1, config.horizon, ACTION_DIM, device="meta")
        encode = _count(lambda: policy.encode_observation(batch))
        keys_values = _count(lambda: policy.dit.context_kv(observation))
        adaln_all = _count(lambda: policy.dit.modulation(torch.zeros(steps, dtype=torch.long, device="meta")))
        adaln_one = _count(lambda: policy.dit.modulation(t1))
        step = _count(lambda: policy.dit(sample, t1, kv, mods))
    optimized = encode + keys_values + adaln_all + steps * step
    naive = steps * (encode + keys_values + adaln_one + step)
    return float(optimized), float(naive)


def print_flops(name: str) -> None:
    optimized, naive = chunk_flops(get_config(name).for_joints(ACTION_DIM))
    print(
        f"{name:>5} FLOPs per chunk: optimized {optimized / 1e9:9.2f} GFLOP, naive {naive / 1e9:9.2f} GFLOP, "
        f"ratio {naive / optimized:5.1f} x"
    )


def bench(
    name: str, device: torch.device, repeats: int, naive_repeats: int, compile_dit: bool, draws: list[int]
) -> None:
    torch.manual_seed(0)
    config = get_config(name).for_joints(ACTION_DIM)
    policy = DexGraspPolicy(config, load_pretrained=False).to(device).eval()
    batch = _batch(policy, device)
    # Warm-up (allocator, kernels) with one eager optimized chunk: it runs every layer the naive
    # chunk runs, at a fraction of its cost (a naive paper chunk on CPU takes minutes).
    # fp32 on CPU, as the naive baseline; bench_precision.py compares the precisions.
    precision = "bf16" if device.type == "cuda" else "fp32"
    policy.predict_chunk(batch, precision=precision)
    # The naive baseline stays eager: it is timed before any compilation.
    naive = _time(lambda: policy.predict_chunk_naive(batch), naive_repeats, device)
    with torch.inference_mode():
        encode = _time(lambda: policy.encode_observation(batch), max(1, naive_repeats), device)
    if compile_dit:
        policy.dit = torch.compile(policy.dit)  # type: ignore[assignment]
        policy.predict_chunk(batch, precision=precision)  # compilation
    fast = _time(lambda: policy.predict_chunk(batch, precision=precision), repeats, device)
    fast_ms, naive_ms = statistics.median(fast), statistics.median(naive)
    params_m = sum(p.numel() for p in policy.parameters()) / 1e6
    print(
        f"{name:>5} on {device.type} ({torch.get_num_threads()} threads): H={config.horizon}, "
        f"{config.inference_steps} DDIM steps, {params_m:.1f} M params"
    )
    print(f"      observation encoding  {statistics.median(encode):9.1f} ms")
    print(f"      optimized chunk       {fast_ms:9.1f} ms  (median of {len(fast)}, worst {max(fast):.1f})")
    print(f"      naive chunk           {naive_ms:9.1f} ms  (median of {len(naive)}, worst {max(naive):.1f})")
    print(f"      speed-up              {naive_ms / fast_ms:9.1f} x")
    own = config.inference_samples
    for count in draws:
        policy.config = dataclasses.replace(config, inference_samples=count)
        timed = statistics.median(
            _time(lambda: policy.predict_chunk(batch, precision=precision), repeats, device)
        )
        ratio = f"{timed / fast_ms:.2f} x the config's {own}"
        print(f"      {count:3d} draws averaged     {timed:9.1f} ms  ({ratio})")
    policy.config = config


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", nargs="+", default=["sim", "paper"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=10, help="optimized chunks timed (sim)")
    parser.add_argument("--naive-repeats", type=int, default=5, help="naive chunks timed (sim)")
    parser.add_argument("--paper-repeats", type=int, default=1, help="chunks timed per path for paper on CPU")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compile", action="store_true", help="torch.compile the DiT (GPU)")
    parser.add_argument("--draws", nargs="*", type=int, default=[], help="averaged draws to time as well")
    parser.add_argument(
        "--flops-only",
        nargs="*",
        default=None,
        help="configs to count FLOPs for without timing (default: paper on CPU, where one naive "
        "chunk runs 16 DINOv2-L/B encodes at 518 px and takes many minutes)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    flops_only = (
        args.flops_only if args.flops_only is not None else (["paper"] if device.type == "cpu" else [])
    )
    for name in args.configs:
        print_flops(name)
        if name in flops_only:
            continue
        slow = name == "paper" and device.type == "cpu"
        repeats = args.paper_repeats if slow else args.repeats
        naive_repeats = args.paper_repeats if slow else args.naive_repeats
        bench(name, device, repeats, naive_repeats, args.compile, args.draws)


if __name__ == "__main__":
    main()
