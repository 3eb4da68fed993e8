"""How long `dexagent` takes to start for commands that compute nothing (help, tree list, skills).

Each command runs in a fresh process, `--repeats` times after one warm-up run, the commands taking
turns (so a change in the machine's load touches them all alike); prints the median
wall time of each, its ratio to a bare interpreter (`python -c pass`, the floor) and to an
interpreter that imports only what any Typer + rich CLI imports
(`python -c "import typer, rich.console, rich.table"`). The target: every command here within 2x
of the latter. For reference, a two-command Typer app that imports nothing else shows what Typer's
own help renderer costs (it loads rich.markdown and rich.traceback on top of the bare import), and
what running one of its commands costs (Typer 0.2x coerces every parameter given or not, the
`--help` flags included, through a pydantic TypeAdapter, so any command loads pydantic; dexagent
builds that check only for values given, `cli/typer_hooks.py`). `dexagent skills` reads the skills'
parameters as declared (dataclasses, `skills/param_fields.py`) and loads no pydantic: importing
typer and rich, then pydantic and one model's JSON schema, is 1.9-2.0x of the typer + rich import.

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

# Two commands, so Typer renders a group's help as `dexagent --help` does.
BARE_APP = """
import typer
app = typer.Typer()
@app.command()
def one(flag: bool = False) -> None: ...
@app.command()
def two(count: int = 1) -> None: ...
app()
"""


def dexagent_command() -> list[str]:
    """The installed `dexagent` script, preferring the one beside this interpreter (a venv's)."""
    beside = Path(sys.executable).with_name("dexagent")
    found = str(beside) if beside.is_file() else shutil.which("dexagent")
    if found is None:
        raise SystemExit("no `dexagent` script found: install the package (pip install -e .)")
    return [found]


def seconds(command: list[str]) -> float:
    """Wall time of one run of `command` in a fresh process."""
    start = time.perf_counter()
    finished = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {finished.returncode}: {finished.stderr[-500:]}")
    return elapsed


def median_seconds(commands: dict[str, list[str]], repeats: int) -> dict[str, float]:
    """Median wall time of each command over `repeats` rounds in which every command runs once
    (after one warm-up round, not counted)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_index in range(repeats + 1):
        for name, command in commands.items():
            elapsed = seconds(command)
            if round_index > 0:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per command")
    args = parser.parse_args()
    dexagent = dexagent_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "typer + rich import": [sys.executable, "-c", "import typer, rich.console, rich.table"],
        "bare typer app --help": [sys.executable, "-c", BARE_APP, "--help"],
        "bare typer app one": [sys.executable, "-c", BARE_APP, "one"],
        "dexagent --help": [*dexagent, "--help"],
        "dexagent tree list": [*dexagent, "tree", "list"],
        "dexagent skills": [*dexagent, "skills"],
    }
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus; median of {args.repeats} runs each")
    # The last column: against the bare Typer app doing the same kind of thing (help, or a command),
    # i.e. what dexagent adds to what any Typer CLI pays on this machine at this load.
    print(f"{'command':22s}{'median s':>10s}{'vs python':>11s}{'vs typer+rich':>15s}{'vs bare app':>13s}")
    medians = median_seconds(commands, args.repeats)
    floor, typer_rich = medians["python -c pass"], medians["typer + rich import"]
    for name, seconds in medians.items():
        line = f"{name:22s}{seconds:10.3f}{seconds / floor:10.1f}x{seconds / typer_rich:14.1f}x"
        if name.startswith("dexagent"):
            bare = medians["bare typer app --help" if name.endswith("--help") else "bare typer app one"]
            line += f"{seconds / bare:12.2f}x"
        print(line)


if __name__ == "__main__":
    main()
