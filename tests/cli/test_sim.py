"""`dexagent sim show|video`: real renders and a real recorded episode; clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image
from typer.testing import CliRunner

from dexagent.cli.app import app

runner = CliRunner()


def sim(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["sim", *args])
    return result.exit_code, " ".join(result.output.split())


def test_show_writes_head_wrist_and_segmentation_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "scene.png"
    code, output = sim("show", "--seed", "3", "--image-size", "64", "--out", str(out))
    assert code == 0, output
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape[1] >= 3 * 64  # three panels in a row
    assert image.std() > 10  # rendered content, not a blank sheet


def test_show_and_video_render_the_wrist_at_its_own_size_and_show_it_beside_the_head(tmp_path: Path) -> None:
    code, output = sim(
        "show", "--seed", "3", "--image-size", "64", "--wrist-size", "32", "--out", str(tmp_path / "a.png")
    )
    assert code == 0, output
    one_size = tmp_path / "b.png"
    assert sim("show", "--seed", "3", "--image-size", "64", "--out", str(one_size))[0] == 0
    sheet, same = np.asarray(Image.open(tmp_path / "a.png")), np.asarray(Image.open(one_size))
    assert sheet.shape == same.shape  # the 32 px wrist panel is scaled to the head's 64 px
    out = tmp_path / "episode.mp4"
    code, output = sim(
        "video",
        "--seed",
        "3",
        "--objects",
        "1",
        "--image-size",
        "48",
        "--wrist-size",
        "24",
        "--out",
        str(out),
    )
    assert code == 0, output
    with imageio.get_reader(out) as reader:
        first = np.asarray(reader.get_data(0))
    assert first.shape == (68, 96, 3) and first[20:, 48:].std() > 10  # the wrist, not a blank half


def test_show_rejects_a_bad_split_and_a_bad_extension(tmp_path: Path) -> None:
    code, output = sim("show", "--split", "mars", "--out", str(tmp_path / "a.png"))
    assert code == 2 and "unknown split 'mars'" in output
    code, output = sim("show", "--out", str(tmp_path / "a.jpg"))
    assert code == 2 and "must end in .png" in output


def test_video_records_a_scripted_episode(tmp_path: Path) -> None:
    out = tmp_path / "episode.mp4"
    code, output = sim("video", "--seed", "3", "--objects", "1", "--image-size", "48", "--out", str(out))
    assert code == 0, output
    with imageio.get_reader(out) as reader:
        frames = [np.asarray(frame) for frame in reader]
    assert len(frames) > 20  # one frame per control tick at 20 Hz
    assert frames[0].shape == (68, 96, 3)  # head | wrist, 48 px each, under a 20 px caption
    # The video's own length, not the wall time it took to record, is what the line calls seconds.
    assert f"{len(frames) / 20:.1f} s of video ({len(frames)} control steps at 20 Hz)" in output, output


def test_video_refuses_a_default_controller_that_does_not_ship(tmp_path: Path) -> None:
    code, output = sim("video", "--controller", "/no/such", "--out", str(tmp_path / "a.mp4"))
    assert code == 2 and "neither 'scripted'" in output
