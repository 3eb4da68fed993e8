"""`dexagent data`: info with a thumbnail sheet, export and import in both formats, clear errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from dexagent.cli.app import app
from dexagent.controller.data import DemoStore

runner = CliRunner()


def data(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["data", *map(str, args)])
    return result.exit_code, result.output


def test_info_prints_the_store_and_writes_a_thumbnail_sheet(
    make_smooth_store: Callable[..., DemoStore], tmp_path: Path
) -> None:
    store = make_smooth_store(lengths=(6, 9, 7, 5))
    code, output = data("info", store.path, "--sheet", tmp_path / "sheet.png", "-n", "3")
    assert code == 0, output
    assert "4 episodes, 27 frames" in output and "steps per episode 5 / 7 / 9" in output
    assert "splits: seen 2, unseen-objects 2" in output and "skills: grasp 4" in output
    assert "instructions: 2 distinct" in output and "head_rgb" in output
    assert "episodes 0, 2, 3" in output
    sheet = np.asarray(Image.open(tmp_path / "sheet.png"))
    assert sheet.shape == (3 * (16 + 128 + 4), 6 * 128 + 5 * 4, 3)
    magenta = (sheet[..., 0] > 200) & (sheet[..., 1] < 80) & (sheet[..., 2] > 200)
    assert magenta.sum() > 20  # the target mask's outline is drawn over the head images


def test_export_then_import_in_both_formats(
    make_smooth_store: Callable[..., DemoStore], tmp_path: Path
) -> None:
    store = make_smooth_store()
    # OUT is the second argument or --out (as `collect` and `train` take it), in both directions.
    for format_name, out, out_args in (
        ("lerobot", tmp_path / "lerobot", ["--out", tmp_path / "lerobot"]),
        ("dexgraspvla", tmp_path / "official.zarr", [tmp_path / "official.zarr"]),
    ):
        code, output = data("export", "--format", format_name, store.path, *out_args)
        assert code == 0, output
        assert f"exported 3 episodes, 22 frames to {out} ({format_name}" in output
        back = tmp_path / f"{format_name}-back.zarr"
        back_args = [back] if format_name == "lerobot" else ["--out", back]
        code, output = data("import", out, *back_args)  # the format is detected
        assert code == 0, output
        assert "imported 3 episodes, 22 frames (32 px)" in output
        np.testing.assert_array_equal(DemoStore.open(back).episode(2).action, store.episode(2).action)


def test_a_store_whose_cameras_have_their_own_sizes_shows_exports_and_imports_them(
    make_smooth_store: Callable[..., DemoStore], tmp_path: Path
) -> None:
    store = make_smooth_store(size=32, wrist=16)  # e.g. a 224 px DINOv2 head beside a 96 px wrist CNN
    code, output = data("info", store.path, "--sheet", tmp_path / "sheet.png")
    assert code == 0, output
    assert "cameras: head 32x32 RGB + target mask, wrist 16x16 RGB" in output
    for format_name, out in (("lerobot", tmp_path / "lerobot"), ("dexgraspvla", tmp_path / "official.zarr")):
        code, output = data("export", "--format", format_name, store.path, out)
        assert code == 0, output
        back = tmp_path / f"{format_name}-back.zarr"
        code, output = data("import", out, back)
        assert code == 0, output
        assert "imported 3 episodes, 22 frames (32 px head, 16 px wrist)" in output
        restored = DemoStore.open(back)
        assert (restored.image_size, restored.wrist_size) == (32, 16)
        np.testing.assert_array_equal(restored.episode(1).wrist_table, store.episode(1).wrist_table)
        np.testing.assert_array_equal(restored.episode(1).head_mask, store.episode(1).head_mask)
        assert restored.episode(1).wrist_rgb.shape == (9, 16, 16, 3)
        code, output = data("import", out, tmp_path / f"{format_name}-one-size.zarr", "--image-size", "24")
        assert code == 0 and "(24 px)" in output, output  # --image-size squares both cameras to it


def test_bad_input_exits_2_with_a_clear_message(
    make_smooth_store: Callable[..., DemoStore], tmp_path: Path
) -> None:
    store = make_smooth_store()
    code, output = data("export", "--format", "rlds", store.path, tmp_path / "x")
    assert code == 2 and "unknown --format 'rlds'; valid formats: lerobot, dexgraspvla" in output
    code, output = data("export", store.path)
    assert code == 2 and "missing the output path: give it as the second argument or as --out" in output
    code, output = data("export", store.path, tmp_path / "a", "--out", tmp_path / "b")
    assert code == 2 and "two output paths" in output
    code, output = data("info", tmp_path / "missing.zarr")
    assert code == 2 and "not a demonstration store" in output
    code, output = data("import", tmp_path, tmp_path / "y.zarr")
    assert code == 2 and "neither a LeRobot v3 dataset" in output
    data("export", store.path, tmp_path / "lerobot")
    code, output = data(
        "import", tmp_path / "lerobot", tmp_path / "y.zarr", "--feature", "head=observation.images.top"
    )
    assert code == 2 and "write ARRAY=FEATURE with ARRAY one of state, action" in output
    code, output = data(
        "import", tmp_path / "lerobot", tmp_path / "y.zarr", "--feature", "head_rgb=observation.images.top"
    )
    assert code == 2 and "no feature 'observation.images.top' for head_rgb" in output
