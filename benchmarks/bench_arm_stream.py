"""How steady the arm's set-point stream is on this machine: sends per second, worst gap, late periods.

`rm_movej_canfd` in follow mode wants a set-point every 10 ms or less. This runs the real
`JointStreamer` for a few seconds against a sender that only timestamps (no arm here) and
prints what a RealMan controller would have received.

    python benchmarks/bench_arm_stream.py --seconds 5 --rate 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from dexagent.hardware.real.joint_stream import JointStreamer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=100.0, help="stream rate, Hz")
    args = parser.parse_args()
    stamps: list[float] = []
    streamer = JointStreamer(lambda q: stamps.append(time.perf_counter()), np.zeros(7), rate_hz=args.rate)
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds:  # a 20 Hz agent feeding new targets
        streamer.set_target(np.full(7, np.sin(time.perf_counter())))
        time.sleep(0.05)
    streamer.stop()
    gaps = np.diff(stamps) * 1000.0
    print(f"target {args.rate:.0f} Hz: {len(stamps) / args.seconds:.1f} sends/s over {args.seconds:.0f} s")
    print(
        f"gap ms: median {np.median(gaps):.2f}, p99 {np.percentile(gaps, 99):.2f}, worst {gaps.max():.2f}; "
        f"late periods {streamer.stats.late} of {streamer.stats.sends}"
    )


if __name__ == "__main__":
    main()
