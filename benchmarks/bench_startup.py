"""How long `dexagent` takes to start for commands that compute nothing (help, tree list, skills).

Each command runs in a fresh process, `--repeats` times after one warm-up run; prints the median
wall time of each and its ratio to a bare interpreter (`python -c pass`), which is the floor.

    python benchmarks/bench_startup.py
    python benchmarks/bench_startup.py --repeats 15
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def dexagent_command() -> list[str]:
    """The installed `dexagent` script, preferring the one beside this interpreter (a venv's)."""
    beside = Path(sys.executable).with_name("dexagent")
    found = str(beside) if beside.is_file() else shutil.which("dexagent")
    if found is None:
        raise SystemExit("no `dexagent` script found: install the package (pip install -e .)")
    return [found]


def median_seconds(command: list[str], repeats: int) -> float:
    """Median wall time of `command` over `repeats` runs (after one warm-up run, not counted)."""
    times = []
    for run in range(repeats + 1):
        start = time.perf_counter()
        finished = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        if finished.returncode != 0:
            raise SystemExit(f"{' '.join(command)} exited {finished.returncode}: {finished.stderr[-500:]}")
        if run > 0:
            times.append(elapsed)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per command")
    args = parser.parse_args()
    dexagent = dexagent_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "dexagent --help": [*dexagent, "--help"],
        "dexagent tree list": [*dexagent, "tree", "list"],
        "dexagent skills": [*dexagent, "skills"],
    }
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus; median of {args.repeats} runs each")
    print(f"{'command':22s}{'median s':>10s}{'vs python':>11s}")
    baseline = None
    for name, command in commands.items():
        seconds = median_seconds(command, args.repeats)
        baseline = baseline or seconds
        print(f"{name:22s}{seconds:10.3f}{seconds / baseline:10.1f}x")


if __name__ == "__main__":
    main()
