"""Fault injection over the CLI: stops while the VLM hangs, broken checkpoints, hostile text and
files, a store killed while it is created. Each ends with a clear exit code, no traceback and no
data lost; each records its row of the fault table (tests/FAULTS.md, printed after the session).

The VLM is a real HTTP server on 127.0.0.1 that the real openai client talks to; signals are real
signals to a real `dexagent` process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from dexagent.cli.app import app

runner = CliRunner()
SHIPPED = Path(__file__).resolve().parents[2] / "controller" / "checkpoints" / "grasp"
SCRIPTED_FAST = [
    "--controller",
    "scripted",
    "--no-realtime",
    "--objects",
    "2",
    "--seed",
    "3",
    "--image-size",
    "64",
]
Row = Callable[..., None]


class VLMServer:
    """An OpenAI-compatible server on 127.0.0.1: lists one model; chat requests either hang until
    the test ends (`hang`) or get `content` as the assistant's reply."""

    def __init__(self, content: str = "", hang: bool = False) -> None:
        self.content, self.hang = content, hang
        self.chat_requests = 0
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._json(
                    {"object": "list", "data": [{"id": "qwen2.5-vl-7b", "object": "model", "created": 0}]}
                )

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.chat_requests += 1
                if server.hang:
                    server.release.wait(120)  # never answers while the test runs
                    return
                message = {"role": "assistant", "content": server.content}
                choice = {"index": 0, "message": message, "finish_reason": "stop"}
                self._json(
                    {"id": "c", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice]}
                )

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def hanging_vlm() -> Iterator[VLMServer]:
    server = VLMServer(hang=True)
    yield server
    server.close()


def _invoke(args: list[str]) -> tuple[int, str, float, bool]:
    """Run the CLI in this process: exit code, output, seconds, whether an exception escaped."""
    started = time.perf_counter()
    result = runner.invoke(app, args, env={"OPENAI_BASE_URL": ""})
    seconds = time.perf_counter() - started
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    return result.exit_code, result.output, seconds, escaped


def _no_traceback(output: str, escaped: bool) -> str:
    assert not escaped and "Traceback" not in output, output
    return "none"


# ---- 1. a stop while the planner hangs ---------------------------------------------------------


def _as_a_background_job() -> None:
    # What a script's `cmd &` does (and so a suite started that way): SIGINT starts ignored. The
    # command must stop on it anyway; set here so the test does not depend on how pytest was started.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_waiting_on(command: list[str], hanging_vlm: Any) -> subprocess.Popen[bytes]:
    """Start `command` and return once the VLM that never answers has received its first request
    (the readiness signal: the command is then blocked in the call the stop must interrupt)."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
        preexec_fn=_as_a_background_job,  # sets one signal disposition, nothing else
    )
    deadline = time.monotonic() + 120
    while hanging_vlm.chat_requests == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert hanging_vlm.chat_requests, process.communicate()[0].decode()
    return process


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signals", "label"),
    [
        ((signal.SIGINT,), "Ctrl-C while the VLM never answers (first plan)"),
        ((signal.SIGINT, signal.SIGINT), "Ctrl-C twice while the VLM never answers"),
        ((signal.SIGTERM,), "SIGTERM while the VLM never answers"),
    ],
)
def test_a_stop_ends_the_run_at_once_while_the_vlm_hangs(
    hanging_vlm: VLMServer, tmp_path: Path, fault_row: Row, signals: tuple[int, ...], label: str
) -> None:
    log = tmp_path / "run.jsonl"
    command = [
        sys.executable, "-m", "dexagent.cli.app", "run", "grasp the red cup", *SCRIPTED_FAST,
        "--planner", "openai", "--planner-url", hanging_vlm.url, "--planner-model", "qwen2.5-vl-7b",
        "--log", str(log),
    ]  # fmt: skip
    process = _start_waiting_on(command, hanging_vlm)
    stopped = time.perf_counter()
    for number, sig in enumerate(signals):
        if number:
            time.sleep(0.1)
        process.send_signal(sig)
    try:
        output = process.communicate(timeout=30)[0].decode()
    finally:
        process.kill()
    seconds = time.perf_counter() - stopped
    assert process.returncode == 130, output
    assert "stopped by the operator" in " ".join(output.split()), output
    said = "SIGTERM" if signals[0] == signal.SIGTERM else "Ctrl-C"  # was "Ctrl-C" for a SIGTERM too
    assert f"stopped by the operator ({said})" in " ".join(output.split()), output
    assert seconds < 10, seconds  # was ~240 s: 60 s timeout x 4 tries in a worker the exit waited for
    traceback = _no_traceback(output, False)
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert events[-1] == "run_end"  # the log is complete
    fault_row(label, process.returncode, seconds, traceback, "none (episode log complete)")


# ---- 3. hostile text: never markup ----------------------------------------------------------------


def test_markup_in_a_prompt_is_printed_as_text(fault_row: Row) -> None:
    prompt = "grasp the red soda can [/x] \x1b[31mred"
    code, output, seconds, escaped = _invoke(["run", prompt, *SCRIPTED_FAST, "--max-seconds", "2"])
    traceback = _no_traceback(output, escaped)
    assert code == 2, output  # the scene planner does not understand '[/x]': bad input, quoted as text
    assert "[/x]" in output and "\x1b[31m" not in output and "\\x1b[31mred" in output
    fault_row("prompt with markup `[/x]` and an ANSI escape", code, seconds, traceback, "none")


def test_markup_in_a_vlm_reply_is_printed_as_text(tmp_path: Path, fault_row: Row) -> None:
    reply = {
        "reasoning": "\x1b[2J[bold]cleared[/bold]",
        "instructions": [{"skill": "grasp", "target": "the [/nope] cup", "text": "grasp the [/nope] cup"}],
    }
    server = VLMServer(content=json.dumps(reply))
    image = tmp_path / "head.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(image)
    try:
        code, output, seconds, escaped = _invoke(
            ["planner", "propose", str(image), "grasp the cup", "--planner-url", server.url,
             "--planner-model", "qwen2.5-vl-7b"]
        )  # fmt: skip
    finally:
        server.close()
    traceback = _no_traceback(output, escaped)
    assert code == 0, output
    assert "the [/nope] cup" in output and "[bold]cleared[/bold]" in output and "\x1b[2J" not in output
    fault_row(
        "VLM reply with `[/nope]` in a target, an ANSI escape in its reasoning",
        code,
        seconds,
        traceback,
        "none",
    )


# ---- 4. broken checkpoints: exit 2 before the first tick, one line naming the file ----------------


def _truncate_weights(folder: Path) -> str:
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    return "model.safetensors"


def _drop_normalizer(folder: Path) -> str:
    (folder / "normalizer.json").unlink()
    return "normalizer.json"


def _nan_normalizer(folder: Path) -> str:
    stats = json.loads((folder / "normalizer.json").read_text())
    stats["state_min"][0] = float("nan")
    (folder / "normalizer.json").write_text(json.dumps(stats))
    return "normalizer.json"


def _huge_horizon(folder: Path) -> str:
    config = json.loads((folder / "config.json").read_text())
    config["horizon"] = 1e9
    (folder / "config.json").write_text(json.dumps(config))
    return "config.json"


DAMAGES = {
    "truncated weights": _truncate_weights,
    "no normaliser": _drop_normalizer,
    "NaN in the normaliser": _nan_normalizer,
    "`horizon: 1e9` in config.json": _huge_horizon,
}
COMMANDS = {
    "run": lambda ckpt, tmp: ["run", "grasp the red cup", "--controller", str(ckpt), "--objects", "2"],
    "eval": lambda ckpt, tmp: [
        "eval",
        "--suite",
        "single-object",
        "--episodes",
        "1",
        "--controller",
        str(ckpt),
    ],
    "sim video": lambda ckpt, tmp: ["sim", "video", "--controller", str(ckpt), "--out", str(tmp / "v.mp4")],
}


@pytest.mark.parametrize("damage", DAMAGES, ids=list(DAMAGES))
@pytest.mark.parametrize("command", COMMANDS, ids=list(COMMANDS))
def test_a_broken_checkpoint_exits_2_naming_the_file(
    tmp_path: Path, fault_row: Row, damage: str, command: str
) -> None:
    import shutil

    folder = tmp_path / "ckpt"
    shutil.copytree(SHIPPED, folder)
    broken = DAMAGES[damage](folder)
    code, output, seconds, escaped = _invoke(COMMANDS[command](folder, tmp_path))
    traceback = _no_traceback(output, escaped)
    assert code == 2, output
    flat = " ".join(output.split())
    assert flat.startswith("error:") and broken in flat, output
    if damage.startswith("`horizon"):
        assert "horizon must be an integer in 1..4096" in flat
    assert len(output.strip().splitlines()) <= 4, output  # one message (rich wraps it at the width)
    fault_row(f"`{command}` with a checkpoint: {damage}", code, seconds, traceback, "none")


# ---- 5, 6 and the newcomer's tree mistakes: `tree validate` --------------------------------------


def _alias_bomb() -> str:
    # 9**6 = 531,441 values once expanded. (A 9**9 bomb took 3.5 GB and more before the loader
    # bounded the expanded size: too much to try on a shared CI machine should that bound break.)
    value = "&l0 [" + ", ".join(["x"] * 9) + "]"
    for level in range(1, 6):
        value = f"&l{level} [{value}, " + ", ".join([f"*l{level - 1}"] * 8) + "]"
    return f"tree:\n  grasp:\n    target: {value}\n"


def _deep_yaml() -> str:
    node = "{reset: {}}"
    for _ in range(300):
        node = f"{{sequence: [{node}]}}"
    return f"tree: {node}\n"


def _deep_xml() -> str:
    body = "<Sequence>" * 300 + "<reset/>" + "</Sequence>" * 300
    return f'<root BTCPP_format="4"><BehaviorTree ID="main">{body}</BehaviorTree></root>\n'


TREES = {
    "a 290-byte alias bomb in a skill parameter (531,441 values)": ("yaml", _alias_bomb(), "YAML aliases"),
    "300 levels of `sequence` (YAML)": ("yaml", _deep_yaml(), "nested more than"),
    "300 levels of `<Sequence>` (XML)": ("xml", _deep_xml(), "nested more than 64 nodes"),
    "`include: /etc/passwd`": (
        "yaml", "include: /etc/passwd\ntree:\n  reset: {}\n", "outside the tree's folder"
    ),
    "a skill reads a key nothing writes": (
        "yaml", 'tree:\n  grasp: {target: "{chosen}"}\n', "which nothing writes"
    ),
    "`attempts: three` (a type error)": (
        "yaml", "tree:\n  retry:\n    reset: {}\n  attempts: three\n", "expected an integer >= 1, got 'three'"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", TREES, ids=list(TREES))
def test_a_hostile_or_wrong_tree_file_exits_2_with_file_and_line(
    tmp_path: Path, fault_row: Row, case: str
) -> None:
    suffix, text, message = TREES[case]
    path = tmp_path / f"tree.{suffix}"
    path.write_text(text)
    code, output, seconds, escaped = _invoke(["tree", "validate", str(path)])
    traceback = _no_traceback(output, escaped)
    assert code == 2, output
    flat = " ".join(output.split())
    assert f"{path}:" in flat and message in flat, output
    assert len(output) < 600  # the value is quoted briefly, never expanded
    fault_row(f"`tree validate`: {case}", code, seconds, traceback, "none")


# ---- 7. a store killed while it is being created --------------------------------------------------

_KILL_WHILE_CREATING = """
import os, signal, sys, zarr
from dexagent.controller.data import DemoStore
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # before the attributes, creation's commit, are written
zarr.Group.update_attributes = killed
DemoStore.create_or_append(sys.argv[1], image_size=32, control_hz=20.0, joints=13)
"""


@pytest.mark.slow
def test_a_store_killed_while_it_was_created_is_used_by_the_next_collect(
    tmp_path: Path, fault_row: Row
) -> None:
    store = tmp_path / "demos.zarr"
    killed = subprocess.run([sys.executable, "-c", _KILL_WHILE_CREATING, str(store)], check=False)
    assert killed.returncode == -signal.SIGKILL and (store / "zarr.json").is_file()
    code, output, seconds, escaped = _invoke(
        ["collect", "--episodes", "1", "--out", str(store), "--objects", "1", "--image-size", "32"]
    )
    traceback = _no_traceback(output, escaped)
    assert code == 0, output
    from dexagent.controller.data import DemoStore

    assert DemoStore.open(store).num_episodes == 1
    fault_row("`collect` into a store killed (-9) while it was created", code, seconds, traceback, "none")


# ---- what a newcomer hits first --------------------------------------------------------------------


def test_an_empty_prompt_is_bad_input(fault_row: Row) -> None:
    code, output, seconds, escaped = _invoke(["run", "  ", *SCRIPTED_FAST])
    traceback = _no_traceback(output, escaped)
    assert code == 2 and "the prompt is empty" in output, output
    fault_row("`run ''` (an empty prompt)", code, seconds, traceback, "none")


@pytest.mark.slow
def test_the_default_controller_runs_a_grasp_only_tree(tmp_path: Path, fault_row: Row) -> None:
    tree = tmp_path / "grasp_only.yaml"
    tree.write_text(
        'tree:\n  sequence:\n    - plan: {prompt: "{prompt}"}\n    - grasp: {target: "{instruction}"}\n'
    )
    from dexagent.hardware.sim.scenes import sample_scene

    spec = next(p.spec for p in sample_scene(3, n_objects=2).objects if not p.spec.flat)
    prompt = "grasp the " + spec.name.replace("_", " ")
    log = tmp_path / "run.jsonl"
    code, output, seconds, escaped = _invoke(
        ["run", prompt, "--tree", str(tree), "--objects", "2", "--seed", "3", "--no-realtime",
         "--max-seconds", "1", "--log", str(log)]
    )  # fmt: skip
    traceback = _no_traceback(output, escaped)
    flat = " ".join(output.split())
    assert code in (0, 1) and "controller │ default" in flat, output  # ran: no push checkpoint needed
    assert "ticks/s unpaced" in flat and "Hz achieved" not in flat and "1 calls" not in flat
    fault_row("`run --tree GRASP_ONLY` with `--controller default`", code, seconds, traceback, "none")


@pytest.mark.slow
def test_ctrl_c_while_planner_propose_waits_for_the_vlm_exits_130(
    hanging_vlm: VLMServer, tmp_path: Path, fault_row: Row
) -> None:
    image = tmp_path / "head.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(image)
    command = [
        sys.executable, "-m", "dexagent.cli.app", "planner", "propose", str(image), "clear the table",
        "--planner-url", hanging_vlm.url, "--planner-model", "qwen2.5-vl-7b",
    ]  # fmt: skip
    process = _start_waiting_on(command, hanging_vlm)
    stopped = time.perf_counter()
    process.send_signal(signal.SIGINT)
    try:
        output = process.communicate(timeout=30)[0].decode()
    finally:
        process.kill()
    seconds = time.perf_counter() - stopped
    assert process.returncode == 130 and "stopped while waiting for the planner" in output, output
    fault_row(
        "Ctrl-C in `planner propose` while the VLM never answers",
        130,
        seconds,
        _no_traceback(output, False),
        "none",
    )
