"""SimRobot: ticks, observations, ground truth, safety of its input."""

from __future__ import annotations

import numpy as np
import pytest

from dexagent.hardware import HardwareError, Robot, SafeRobot, UnsafeActionError
from dexagent.hardware.sim.robot import SimRobot


@pytest.fixture
def robot(three_object_scene) -> SimRobot:  # type: ignore[no-untyped-def]
    with SimRobot(three_object_scene, image_size=96) as sim:
        yield sim


def test_sim_robot_implements_the_robot_protocol(robot: SimRobot) -> None:
    assert isinstance(robot, Robot)
    assert robot.spec.joint_names[:7] == tuple(f"joint{i}" for i in range(1, 8))


def test_one_tick_advances_fifty_milliseconds(robot: SimRobot) -> None:
    assert robot.time == 0.0
    robot.act(robot.spec.home)
    assert robot.time == pytest.approx(0.05)


def test_observation_shapes_and_dtypes(robot: SimRobot) -> None:
    observation = robot.observe()
    assert observation.head_rgb.shape == (96, 96, 3) and observation.head_rgb.dtype == np.uint8
    assert observation.wrist_rgb.shape == (96, 96, 3) and observation.wrist_rgb.dtype == np.uint8
    assert observation.state.shape == (13,) and observation.state.dtype == np.float32
    assert observation.head_segmentation is not None
    assert observation.head_segmentation.shape == (96, 96) and observation.head_segmentation.dtype == np.int32
    assert observation.head_rgb.std() > 5 and observation.wrist_rgb.std() > 5  # real images, not blank
    assert np.allclose(observation.state, robot.spec.home, atol=0.02)


def test_only_requested_cameras_are_rendered(three_object_scene) -> None:  # type: ignore[no-untyped-def]
    with SimRobot(three_object_scene, image_size=64, cameras=("wrist",)) as sim:
        observation = sim.observe()
        assert not observation.head_rgb.any()
        assert observation.head_segmentation is None
        assert observation.wrist_rgb.any()


def test_each_camera_renders_at_its_own_size(three_object_scene) -> None:  # type: ignore[no-untyped-def]
    # A frozen DINOv2 head reads 224 px, a wrist CNN 96: the wrist is not rendered at 224 and shrunk.
    with SimRobot(three_object_scene, image_size=224, wrist_size=96) as sim:
        observation = sim.observe()
        assert observation.head_rgb.shape == (224, 224, 3) and observation.wrist_rgb.shape == (96, 96, 3)
        assert observation.head_segmentation is not None and observation.head_segmentation.shape == (224, 224)
        assert sim.table_mask("head").shape == (224, 224) and sim.table_mask("wrist").shape == (96, 96)
        assert sim.table_mask("wrist").any() and observation.wrist_rgb.std() > 5
        assert (sim.camera_size("head"), sim.camera_size("wrist")) == (224, 96)
        with SimRobot(three_object_scene, image_size=96) as same_size:
            # The wrist's 96 px picture is the one a one-size sim renders, pixel for pixel.
            assert np.array_equal(same_size.observe().wrist_rgb, observation.wrist_rgb)
            assert np.array_equal(same_size.table_mask("wrist"), sim.table_mask("wrist"))
    with SimRobot(three_object_scene, image_size=48, wrist_size=64, cameras=("head",)) as sim:
        assert sim.observe().wrist_rgb.shape == (64, 64, 3)  # not rendered: zeros of its size


def test_a_camera_below_16_pixels_is_refused(three_object_scene) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(HardwareError, match="wrist_size must be at least 16"):
        SimRobot(three_object_scene, image_size=96, wrist_size=8)


def test_segmentation_finds_every_object_with_a_box(robot: SimRobot) -> None:
    segmentation = robot.head_segmentation()
    assert set(np.unique(segmentation)) == {-1, 0, 1, 2}
    for i in range(3):
        box = robot.object_box(i)
        assert box is not None and box.area > 4


def test_objects_rest_on_the_table_and_are_not_lifted(robot: SimRobot) -> None:
    for i in range(3):
        assert abs(robot.object_height(i)) < 0.003
        assert not robot.is_lifted(i) and not robot.grasp_success(i)
        assert not robot.in_contact_with_hand(i)
    assert [o.name for o in robot.objects] == ["red_cube", "green_can", "blue_bottle"]
    assert np.allclose(robot.object_position(0)[:2], [0.45, -0.1], atol=0.005)


def test_wrong_shaped_or_nan_actions_are_rejected(robot: SimRobot) -> None:
    with pytest.raises(UnsafeActionError, match="shape"):
        robot.act(np.zeros(7))
    action = robot.spec.home.copy()
    action[3] = np.nan
    with pytest.raises(UnsafeActionError, match="non-finite"):
        robot.act(action)
    assert robot.time == 0.0  # nothing was simulated


def test_safe_robot_wraps_the_sim(robot: SimRobot) -> None:
    safe = SafeRobot(robot)
    far = robot.spec.home.copy()
    far[0] += 1.0
    safe.act(far)
    assert robot.data.ctrl[0] == pytest.approx(robot.spec.max_step[0], abs=1e-6)


def test_remove_object_puts_it_in_the_bin(robot: SimRobot) -> None:
    robot.remove_object(1)
    for _ in range(10):
        robot.act(robot.spec.home)
    position = robot.object_position(1)
    assert position[1] < -0.38  # beyond the table's side edge
    assert robot.object_height(1) < 0  # below the table top, in the bin


def test_bad_object_index_and_camera_name_are_clear_errors(three_object_scene) -> None:  # type: ignore[no-untyped-def]
    sim = SimRobot(three_object_scene, image_size=32, cameras=())
    with pytest.raises(HardwareError, match="no object 7"):
        sim.object_position(7)
    sim.close()
    with pytest.raises(HardwareError, match="unknown camera"):
        SimRobot(three_object_scene, cameras=("top",))


def test_disco_lighting_changes_with_sim_time(shapes) -> None:  # type: ignore[no-untyped-def]
    scene = shapes.scene((shapes.cube(), 0.45, 0.0, 0.0), (shapes.can(), 0.55, 0.1, 0.0), moving=True)
    with SimRobot(scene, image_size=32, cameras=()) as sim:
        before = sim.model.light_diffuse.copy()
        for _ in range(5):
            sim.act(sim.spec.home)
        assert not np.allclose(before, sim.model.light_diffuse)


def test_home_restores_the_home_pose(robot: SimRobot) -> None:
    action = robot.spec.home.copy()
    action[1] += 0.3
    action[9] = 0.0
    for _ in range(10):
        robot.act(action)
    robot.home()
    assert np.allclose(robot.state(), robot.spec.home, atol=1e-3)


def test_table_masks_show_the_table_top_and_nothing_on_it(robot: SimRobot) -> None:
    head = robot.table_mask("head")
    objects = robot.head_segmentation() >= 0
    assert head.dtype == np.bool_ and head.shape == objects.shape
    assert 0.2 < head.mean() < 0.95 and not (head & objects).any()
    # The white table is the bright, colourless part of the head image.
    rgb = robot.observe().head_rgb.astype(float)
    assert rgb[head].mean() > 180 and np.ptp(rgb[head].mean(axis=0)) < 10
    wrist = robot.table_mask("wrist")
    assert wrist.shape == head.shape and wrist.any() and not wrist.all()
    with pytest.raises(ValueError, match="camera must be 'head' or 'wrist'"):
        robot.table_mask("side")
