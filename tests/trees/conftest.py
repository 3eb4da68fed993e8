"""Every tree test starts with an empty py_trees blackboard (it is process-global)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import py_trees
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the scripted stand-ins live beside the tests


@pytest.fixture(autouse=True)
def clean_blackboard() -> Iterator[None]:
    py_trees.blackboard.Blackboard.clear()
    yield
    py_trees.blackboard.Blackboard.clear()
