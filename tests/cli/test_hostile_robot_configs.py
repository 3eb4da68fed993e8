"""Hostile and mistaken robot configs and doctor flags: exit 2, one line naming the file and field.

Each case was a hang (an alias bomb: memory past 1.2 GB and growing; a 5 MB file: 85 s), a
traceback (undecodable bytes, a NUL byte, 20,000 nested `[`, a malformed host name, a register
beyond 16 bits at the first request) or a crash in RealMan's SDK, before the fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dexagent.cli.app import app

Row = Callable[..., None]
runner = CliRunner()
CAMERAS = "cameras:\n  head: {serial: '1'}\n  wrist: {serial: '2'}\n"


def _alias_bomb() -> str:
    # 9 levels x 9 aliases: 9**9 values once expanded, 300 bytes written.
    lines = ["type: real", CAMERAS.rstrip("\n"), "calibration:", "  l0: &l0 [" + ", ".join(["x"] * 9) + "]"]
    for level in range(1, 9):
        lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


CASES: dict[str, tuple[bytes, str]] = {
    "a 9x9 YAML alias bomb": (_alias_bomb().encode(), "YAML aliases"),
    "binary bytes": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\x00\x10", "not UTF-8 text"),
    "latin-1 text": ("type: real\n# café\n".encode("latin-1"), "not UTF-8 text (byte 0xe9"),
    "a NUL byte": (b"type: real\x00\n", "character #x0000"),
    "20,000 nested `[`": (b"[" * 20_000, "nested more than 16 levels"),
    "a 5 MB file": (b"# " + b"x" * 5_000_000 + b"\n", "at most 200000"),
    "a 70-character host name label": (
        f"type: real\n{CAMERAS}hand: {{host: {'a' * 70}.lab}}\n".encode(),
        "hand.host: Value error, not an IP",
    ),
    "a malformed host name": (f"type: real\n{CAMERAS}arm: {{ip: 'arm controller!'}}\n".encode(), "arm.ip"),
    "`full_scale: 70000` in the hand's register map": (
        f"type: real\n{CAMERAS}hand:\n  registers: {{full_scale: 70000}}\n".encode(),
        "hand.registers.full_scale: Input should be less than or equal to 32767",
    ),
    "a hand register address of 70000": (
        f"type: real\n{CAMERAS}hand:\n  registers: {{error: 70000}}\n".encode(),
        "hand.registers.error: Input should be less than or equal to 65530",
    ),
}


def _invoke(args: list[str]) -> tuple[int, str, float]:
    started = time.perf_counter()
    result = runner.invoke(app, args)
    seconds = time.perf_counter() - started
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not escaped and "Traceback" not in result.output, (result.exception, result.output)
    return result.exit_code, result.output, seconds


@pytest.mark.parametrize("command", ["doctor", "run"])
@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_hostile_robot_config_exits_2_with_one_line_naming_the_file(
    tmp_path: Path, fault_row: Row, case: str, command: str
) -> None:
    content, message = CASES[case]
    path = tmp_path / "robot.yaml"
    path.write_bytes(content)
    args = ["--robot-config", str(path)]
    if command == "run":
        args = ["run", "grasp the cup", "--robot", "real", "--controller", "scripted", *args]
    else:
        args = ["doctor", *args]
    code, output, seconds = _invoke(args)
    flat = " ".join(output.split())
    assert code == 2, output
    assert flat.startswith(f"error: {path}") and message in flat, output
    assert len(output) < 600
    assert seconds < 5, seconds
    fault_row(f"`{command}` with a robot config: {case}", code, seconds, "none", "none")


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_doctor_refuses_a_timeout_that_is_not_a_positive_number(value: str, fault_row: Row) -> None:
    code, output, seconds = _invoke(["doctor", "--timeout", value])
    assert code == 2 and "--timeout must be a number of seconds" in output, output
    if value == "nan":  # was accepted: every bounded wait became unbounded
        fault_row("`doctor --timeout nan`", code, seconds, "none", "none")
