"""The run video: head and wrist side by side, whatever size each camera renders at."""

from __future__ import annotations

import numpy as np

from dexagent.agent.video import side_by_side


def test_a_wrist_of_its_own_size_is_scaled_to_the_heads_height_not_dropped() -> None:
    head = np.full((64, 64, 3), 10, np.uint8)
    wrist = np.arange(32 * 32 * 3, dtype=np.uint8).reshape(32, 32, 3)
    frame = side_by_side(head, wrist)
    assert frame.shape == (64, 128, 3)
    np.testing.assert_array_equal(frame[:, :64], head)
    np.testing.assert_array_equal(frame[::2, 64::2], wrist)  # nearest pixel: each wrist pixel twice
    assert side_by_side(head, head).shape == (64, 128, 3)  # one size: as it always was
