"""`dexagent planner check|ground|propose` against the local OpenAI-compatible server.

(It lives beside the server fixture rather than in tests/cli.)
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from dexagent.cli.app import app

runner = CliRunner(env={"COLUMNS": "200"})  # no wrapping of long lines


def _image(path: Path, width: int = 640, height: int = 480) -> Path:
    rgb = np.full((height, width, 3), 255, np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def _server_args(server: Any, model: str = "test-vlm", box_format: str = "qwen2.5-vl") -> list[str]:
    server.models = [model]
    return ["--planner-url", server.url, "--planner-model", model, "--planner-box-format", box_format]


def test_check_reports_the_model_and_convention(vlm_server: Any) -> None:
    result = runner.invoke(app, ["planner", "check", *_server_args(vlm_server, "Qwen3-VL-8B", "auto")])
    assert result.exit_code == 0, result.output
    assert "ok openai planner: Qwen3-VL-8B at http://127.0.0.1" in result.output
    assert "qwen3-vl boxes, JSON schema" in result.output


def test_check_on_a_dead_server_exits_2() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    result = runner.invoke(app, ["planner", "check", "--planner-url", url, "--planner-model", "qwen3-vl"])
    assert result.exit_code == 2
    assert "cannot reach the planner server" in result.output


def test_ground_prints_the_box_in_image_pixels_and_draws_it(vlm_server: Any, tmp_path: Path) -> None:
    # 640x480 is sent as 644x476 for Qwen2.5-VL; the model's pixels come back as image pixels.
    vlm_server.queue('{"reasoning": "left half", "box": [0, 0, 322, 476]}')
    out = tmp_path / "boxed.png"
    image = _image(tmp_path / "head.png")
    result = runner.invoke(
        app, ["planner", "ground", str(image), "the red cup", "--out", str(out), *_server_args(vlm_server)]
    )
    assert result.exit_code == 0, result.output
    assert "the red cup: x1=0.0 y1=0.0 x2=320.0 y2=480.0 (image pixels)" in result.output
    drawn = np.asarray(Image.open(out))
    assert tuple(drawn[240, 0]) == (255, 0, 0) and tuple(drawn[240, 319]) == (255, 0, 0)  # box edges
    assert tuple(drawn[240, 400]) == (255, 255, 255)


def test_ground_with_an_unusable_model_exits_1(vlm_server: Any, tmp_path: Path) -> None:
    vlm_server.queue("no", "no", "no")
    image = _image(tmp_path / "head.png")
    result = runner.invoke(app, ["planner", "ground", str(image), "the cup", *_server_args(vlm_server)])
    assert result.exit_code == 1
    assert "gave no usable reply in 3 tries" in result.output


def test_propose_prints_the_plan(vlm_server: Any, tmp_path: Path) -> None:
    steps = '["grasp the apple", "push the plate to the edge, then grasp it"]'
    vlm_server.queue(f'{{"reasoning": "two things", "instructions": {steps}}}')
    image = _image(tmp_path / "head.png")
    arguments = ["planner", "propose", str(image), "clear the table", *_server_args(vlm_server)]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "│" in line]
    assert any("grasp" in row and "the apple" in row for row in rows)
    assert any("push_then_grasp" in row and "the plate" in row for row in rows)
    assert "reasoning: two things" in result.output


def test_unreadable_image_exits_2(vlm_server: Any, tmp_path: Path) -> None:
    bad = tmp_path / "not-an-image.png"
    bad.write_text("hello")
    result = runner.invoke(app, ["planner", "ground", str(bad), "the cup", *_server_args(vlm_server)])
    assert result.exit_code == 2
    assert "cannot read image" in result.output
    assert vlm_server.chat_requests() == []
