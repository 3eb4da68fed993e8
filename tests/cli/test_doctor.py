"""`dexagent doctor`: a table of what works; exit 0 only when the configuration can run; never hangs."""

from __future__ import annotations

import http.server
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

from dexagent.cli.app import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hardware" / "real"))
from modbus_hand_sim import HandState, free_port, tcp_hand  # noqa: E402

runner = CliRunner()


def _doctor(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["doctor", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


@contextmanager
def _silent_listener() -> Iterator[int]:
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


@contextmanager
def _models_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.end_headers()
            self.wfile.write(b'{"data": []}')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


def test_this_machine_can_run_the_sim_and_the_table_names_every_part() -> None:
    code, output = _doctor()
    assert code == 0, output
    for name in (
        "python",
        "torch",
        "mujoco rendering",
        "pyrealsense2",
        "Robotic_Arm",
        "pymodbus",
        "sam2",
        "cutie",
    ):
        assert name in output
    assert "the simulation can run on this machine" in output
    assert "Field required" not in output and "FAIL" not in output  # no tracker asked for: no sam2 row


def test_the_vlm_endpoint_is_checked_when_given() -> None:
    with _models_server() as url:
        code, output = _doctor("--planner-url", url)
    assert code == 0 and "HTTP 200" in output
    code, output = _doctor("--planner-url", f"http://127.0.0.1:{free_port()}/v1", "--timeout", "0.5")
    assert code == 1 and "unreachable" in output and "cannot run: VLM endpoint" in output


def test_silent_and_absent_devices_are_reported_within_bounded_time(tmp_path: Path) -> None:
    state = HandState()
    with tcp_hand(state) as (hand_port, _), _silent_listener() as silent:
        state.errors[1] = 0b1  # ring finger stalled
        path = tmp_path / "robot.yaml"
        path.write_text(
            f"type: real\narm: {{ip: 127.0.0.1, port: {silent}}}\n"
            f"hand: {{host: 127.0.0.1, port: {hand_port}, timeout_s: 0.3}}\n"
            "cameras:\n  head: {serial: '111'}\n  wrist: {serial: '222'}\n"
        )
        started = time.monotonic()
        code, output = _doctor("--robot-config", str(path), "--timeout", "0.5")
        elapsed = time.monotonic() - started
    output = " ".join(output.split())  # table cells wrap
    assert code == 1
    # the arm's port accepts TCP but never answers: the official SDK gives up, the doctor says so
    assert f"no RealMan controller answers at 127.0.0.1:{silent}" in output
    assert "ring: stalled (locked rotor)" in output  # the hand answers, with its status and errors
    assert "serial 111 not connected (found: none)" in output
    assert "cannot run" in output
    assert elapsed < 30


def test_a_bad_robot_config_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "robot.yaml"
    path.write_text("type: real\ncameras: 3\n")
    code, output = _doctor("--robot-config", str(path))
    assert code == 2 and f"{path}:2:" in output.replace("\n", "")


def test_the_tracker_row_checks_options_packages_and_weight_files(tmp_path: Path) -> None:
    code, output = _doctor("--tracker", "sam2")
    assert "checkpoint': Field required" in " ".join(output.split())
    weights = tmp_path / "sam2.1_hiera_tiny.pt"
    code, output = _doctor("--tracker", "sam2", "--tracker-option", f"checkpoint={weights}")
    output = " ".join(output.split())
    assert ("not installed: sam2" in output) or ("weights not found" in output)
    code, output = _doctor("--tracker", "oracle")
    assert code == 0 and "no weights needed" in output
