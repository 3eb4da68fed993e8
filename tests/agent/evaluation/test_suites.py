"""Evaluation suites: the registry, and how episodes are shared out among a suite's splits."""

from __future__ import annotations

from collections import Counter

import pytest

from dexagent.agent.evaluation import SUITES, Suite, SuiteError, get_suite


def test_every_suite_of_the_paper_protocol_is_registered() -> None:
    assert set(SUITES) >= {
        "seen",
        "unseen-objects",
        "unseen-backgrounds",
        "unseen-lighting",
        "generalization",
        "single-object",
        "nonprehensile",
    }
    assert get_suite("single-object").n_objects == 1
    assert get_suite("nonprehensile").skill == "push_then_grasp"
    assert get_suite("nonprehensile").flat_target and not get_suite("seen").flat_target


def test_generalization_splits_episodes_like_the_papers_1287_tests() -> None:
    plan = get_suite("generalization").split_plan(1287)
    assert Counter(plan) == {"unseen-objects": 360, "unseen-backgrounds": 618, "unseen-lighting": 309}


@pytest.mark.parametrize("episodes", [1, 2, 3, 7, 10, 100])
def test_any_episode_count_is_shared_out_in_full_by_largest_remainder(episodes: int) -> None:
    plan = get_suite("generalization").split_plan(episodes)
    assert len(plan) == episodes
    counts = Counter(plan)
    for split, weight in get_suite("generalization").splits:
        assert abs(counts[split] - episodes * weight / 1287) < 1.0


def test_an_unknown_suite_lists_the_valid_ones() -> None:
    with pytest.raises(SuiteError, match="unknown suite 'sen'; valid suites: seen, unseen-objects"):
        get_suite("sen")


def test_a_suite_with_a_bad_split_or_skill_is_refused() -> None:
    with pytest.raises(SuiteError, match="bad split entry"):
        Suite("x", "bad", (("mars", 1),))
    with pytest.raises(SuiteError, match="unknown skill 'juggle'"):
        Suite("x", "bad", (("seen", 1),), skill="juggle")
    with pytest.raises(SuiteError, match="episodes must be positive"):
        get_suite("seen").split_plan(0)
