"""Table-space patterns: the pixels' table coordinates against the sim's own table pixels, and
`TablePattern` painting in those coordinates, alone and through the dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dexagent.controller.data.augment import PATTERNS, TablePattern, parse_augment
from dexagent.controller.data.dataset import ChunkDataset, load_demo_arrays
from dexagent.controller.data.store import DemoStore, EpisodeFrames, EpisodeMetadata
from dexagent.controller.data.table_plane import PLANE_SUPERSAMPLE, camera_poses, table_coordinates
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scene_spec import TABLE_X, TABLE_Y
from dexagent.hardware.sim.scenes import sample_scene
from dexagent.hardware.types import ARM_DOF


def _on_table(xy: torch.Tensor) -> np.ndarray:
    x, y = xy.numpy()
    with np.errstate(invalid="ignore"):
        return (x >= TABLE_X[0]) & (x <= TABLE_X[1]) & (y >= TABLE_Y[0]) & (y <= TABLE_Y[1])


def test_table_coordinates_land_on_the_table_where_the_sim_renders_it() -> None:
    """Every pixel the sim segments as table top maps inside the table's extent (but for the
    pixels its edge cuts), at home and with the arm moved, for the fixed head and the moving wrist."""
    robot = SimRobot(sample_scene(3, "seen", 1))
    rng = np.random.default_rng(0)
    checked = {"head": 0, "wrist": 0}
    for _ in range(3):
        state = robot.observe().state
        for camera in checked:
            rendered = robot.table_mask(camera)
            xy = table_coordinates(camera, state[None, :ARM_DOF], rendered.shape[0])[0]
            geometric = _on_table(xy)
            assert (rendered & ~geometric).sum() <= 0.05 * rendered.sum()  # edge pixels only
            if camera == "head":  # nothing hides the table from the head here but the object
                assert (geometric & ~rendered).sum() <= 0.05 * geometric.sum()
            checked[camera] += int(rendered.sum())
        action = robot.commanded_action().copy()
        action[:ARM_DOF] += rng.normal(0.0, 0.25, ARM_DOF)
        for _ in range(40):
            robot.act(action)
    assert checked["head"] > 10_000 and checked["wrist"] > 1_000


def test_table_coordinates_run_from_near_to_far_up_the_head_image_and_reject_bad_input() -> None:
    xy = table_coordinates("head", np.zeros((2, ARM_DOF)), 16)
    assert xy.shape == (2, 2, 16, 16) and xy.dtype == torch.float32
    assert torch.equal(xy[0], xy[1])  # the head camera does not ride the arm
    position, _, _ = camera_poses("head", np.zeros((1, ARM_DOF)))
    distance = (xy[0] - torch.from_numpy(position[0, :2]).float().view(2, 1, 1)).norm(dim=0)
    assert bool((distance[:-1] > distance[1:]).all())  # each row up the image sees farther
    with pytest.raises(ValueError, match="camera must be one of"):
        table_coordinates("chest", np.zeros((1, ARM_DOF)), 8)
    with pytest.raises(ValueError, match=r"arm_joints must be \(B, 7\)"):
        table_coordinates("wrist", np.zeros((1, 13)), 8)


def _drawn(pattern: str, cell: float, batch: int = 1) -> dict[str, torch.Tensor]:
    return {
        "chosen": torch.ones(batch, dtype=torch.bool),
        "pattern": torch.full((batch,), PATTERNS.index(pattern)),
        "cell": torch.full((batch,), cell),
        "angle": torch.zeros(batch),
        "offset": torch.zeros(batch, 2),
        "grout": torch.full((batch,), 0.25),
        "colours": torch.tensor([[[0.1, 0.2, 0.3], [0.9, 0.8, 0.7]]]).expand(batch, 2, 3),
        "seed": torch.zeros(batch),
    }


def _plane(size: int) -> torch.Tensor:
    """x = 0.01 m per column (pixel centres), y = 0.01 m per row: a table seen from straight above."""
    centres = (torch.arange(size) + 0.5) * 0.01
    return torch.stack([centres.view(1, -1).expand(size, size), centres.view(-1, 1).expand(size, size)])[None]


def test_checks_follow_the_table_coordinates_and_keep_the_shading() -> None:
    rgb = torch.full((1, 3, 16, 16), 0.93)
    rgb[:, :, 8:] *= 0.5  # a shadow over the lower half
    rgb[:, :, 0, 0] = torch.tensor([1.0, 0.0, 0.0])  # an object pixel
    table = torch.ones(1, 1, 16, 16)
    table[:, :, 0, 0] = 0
    out = TablePattern()(rgb, table, _drawn("checks", 0.04), torch.Generator(), plane=_plane(16))
    low, high = torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0.9, 0.8, 0.7])
    # 4 x 4 pixel squares: (row, col) // 4 with an even sum is the first colour.
    assert torch.allclose(out[0, :, 1, 1], low) and torch.allclose(out[0, :, 1, 5], high)
    assert torch.allclose(out[0, :, 5, 1], high) and torch.allclose(out[0, :, 5, 5], low)
    assert torch.allclose(out[0, :, 9, 1], 0.5 * low, atol=1e-6)  # in the shadow: half as bright
    assert torch.equal(out[0, :, 0, 0], rgb[0, :, 0, 0])  # not table: untouched


def test_each_pattern_has_its_own_layout_and_fine_cells_average_to_their_mean() -> None:
    rgb, table = torch.full((1, 3, 16, 16), 0.93), torch.ones(1, 1, 16, 16)
    pattern = TablePattern()
    painted = {
        name: pattern(rgb, table, _drawn(name, 0.04), torch.Generator(), plane=_plane(16))[0, 0]
        for name in PATTERNS
    }
    assert torch.equal(painted["stripes"][0], painted["stripes"][15])  # stripes run along y
    assert not torch.equal(painted["stripes"][:, 1], painted["stripes"][:, 5])
    grout = painted["grid"]
    assert torch.isclose(grout[0, 0], torch.tensor(0.9)) and torch.isclose(grout[2, 2], torch.tensor(0.1))
    tiles = painted["tiles"]  # one shade per 4 x 4 tile, shades differ between tiles
    assert torch.equal(tiles[:4, :4], tiles[0, 0].expand(4, 4)) and len(torch.unique(tiles)) > 4
    # Cells of half a fine pixel, drawn on a grid twice the image's and averaged down: the mean.
    fine = _plane(32) / 2
    blurred = pattern(rgb, table, _drawn("checks", 0.005), torch.Generator(), plane=fine)
    assert torch.allclose(blurred[0, :, 3:13, 3:13].mean((1, 2)), torch.tensor([0.5, 0.5, 0.5]), atol=0.02)


def test_table_pattern_draws_per_sample_and_rejects_bad_settings_and_missing_coordinates() -> None:
    pattern = TablePattern(probability=0.5)
    drawn = pattern.draw(64, torch.Generator().manual_seed(0))
    assert 10 < int(drawn["chosen"].sum()) < 54
    assert set(drawn["pattern"].tolist()) == set(range(len(PATTERNS)))
    assert float(drawn["cell"].min()) >= 0.02 and float(drawn["cell"].max()) <= 0.2
    rgb, table = torch.rand(64, 3, 8, 8), torch.ones(64, 1, 8, 8)
    plane = _plane(16).expand(64, -1, -1, -1)
    out = pattern(rgb, table, drawn, torch.Generator(), plane=plane)
    assert torch.equal(out[~drawn["chosen"]], rgb[~drawn["chosen"]])
    assert (out[drawn["chosen"]] != rgb[drawn["chosen"]]).flatten(1).any(1).all()
    assert parse_augment("table_pattern=0.4") == ("table_pattern", 0.4)
    with pytest.raises(ValueError, match="cell must be a range"):
        TablePattern(cell=(0.1, 0.05))
    with pytest.raises(ValueError, match="grout"):
        TablePattern(grout=(0.1, 0.6))
    with pytest.raises(ValueError, match="table coordinates"):
        pattern(rgb, table, drawn, torch.Generator())
    with pytest.raises(ValueError, match=r"\(B, 2, kS, kS\)"):
        pattern(rgb, table, drawn, torch.Generator(), plane=_plane(12).expand(64, -1, -1, -1))


def _table_store(path: Path, frames: int = 6, size: int = 8) -> Path:
    """One episode whose frames show table everywhere, the arm in a different pose each frame."""
    rng = np.random.default_rng(0)
    state = np.zeros((frames, 13), dtype=np.float32)
    state[:, :ARM_DOF] = rng.uniform(-0.6, 0.6, (frames, ARM_DOF))
    everywhere = np.ones((frames, size, size), dtype=bool)
    with DemoStore.create_or_append(path, image_size=size, control_hz=20.0, joints=13) as store:
        episode = EpisodeFrames(
            action=state.copy(), state=state, head_mask=~everywhere,
            head_rgb=np.full((frames, size, size, 3), 237, dtype=np.uint8),
            wrist_rgb=np.full((frames, size, size, 3), 237, dtype=np.uint8),
            head_table=everywhere, wrist_table=everywhere,
        )  # fmt: skip
        metadata = EpisodeMetadata(
            0, "seen", "grasp", "cube", "toy", "red", (), "grasp it", (0, 0, 2, 2), frames
        )
        store.append_episode(episode, metadata)
    return path


def test_the_dataset_paints_each_camera_from_its_own_pose(tmp_path: Path) -> None:
    """Through the dataset, each camera is painted in its own coordinates for the frame's arm
    joints: the same draw, the head's fixed view and the wrist's view from each frame's pose."""
    arrays = load_demo_arrays(_table_store(tmp_path / "d.zarr"))
    plain = ChunkDataset(arrays, np.arange(1), horizon=2, image_size=8)
    pattern = TablePattern(probability=1.0, cell=(0.05, 0.05))
    painted = ChunkDataset(arrays, np.arange(1), horizon=2, image_size=8, augments=[pattern])
    positions = np.arange(len(painted))
    a = plain.batch(positions)
    b = painted.batch(positions, torch.Generator().manual_seed(0))
    generator = torch.Generator().manual_seed(0)
    drawn = pattern.draw(len(positions), generator)
    states = arrays.state[painted.frames[positions]]
    table = torch.ones(len(positions), 1, 8, 8)
    for camera in ("head", "wrist"):
        plane = table_coordinates(camera, states[:, :ARM_DOF], 8 * PLANE_SUPERSAMPLE)
        expected = pattern(a[f"{camera}_rgb"], table, drawn, generator, plane=plane)
        assert torch.allclose(b[f"{camera}_rgb"], expected)
        assert not torch.equal(a[f"{camera}_rgb"], b[f"{camera}_rgb"])
    # The wrist rides the arm: frames in other poses see other parts of the same pattern.
    assert not torch.allclose(b["wrist_rgb"][0], b["wrist_rgb"][1])
    assert not torch.allclose(b["head_rgb"], b["wrist_rgb"])
