"""Evaluation suites: which scenes an evaluation draws, in one registry (add a suite with one entry).

A controller-driven skill's own suite comes from its spec (`controller/skill_spec.py`):
`nonprehensile` is push_then_grasp's.

The grasping suites mirror the paper's protocol (Section 5.2, Table 1) in sim: seen
objects on the white table under white light, then held-out objects, backgrounds
and lightings. `generalization` mixes the three unseen splits in the proportions of
the paper's 1,287 tests: 360 unseen-object, 618 unseen-background, 309 unseen-lighting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dexagent.agent.evaluation.long_horizon import LONG_HORIZON_SPLIT, run_long_horizon_episode
from dexagent.agent.evaluation.long_horizon_metrics import long_horizon_report
from dexagent.controller.skill_spec import CONTROLLED_SKILLS, ControlledSkill
from dexagent.hardware.sim.scene_spec import SPLITS


class SuiteError(ValueError):
    """An unknown suite or an evaluation that cannot be planned."""


@dataclass(frozen=True)
class Suite:
    """A family of evaluation episodes: scene splits with their weights, the skill, the clutter."""

    name: str
    description: str
    splits: tuple[tuple[str, int], ...]  # (split, weight); episodes are shared out by weight
    skill: str = "grasp"
    n_objects: int = 6
    # How one episode runs: None is the standard grasp episode (`runner.run_grasp_episode`);
    # a suite with another protocol (e.g. long-horizon prompts) names a module-level function
    # taking an `EpisodeTask` and returning an `EpisodeRecord` (module-level so workers can use it).
    run_episode: Callable[..., Any] | None = None
    # How its results print: None is the success table per split (`report.results_table`); else a
    # function (config, records) -> (rich table, extra fields for the JSON report).
    report: Callable[..., Any] | None = None
    default_controller: str = "default"  # what `dexagent eval` runs when --controller is not given

    def __post_init__(self) -> None:
        for split, weight in self.splits:
            if split not in SPLITS or weight <= 0:
                raise SuiteError(f"suite {self.name!r}: bad split entry ({split!r}, {weight})")
        if self.skill not in CONTROLLED_SKILLS:
            raise SuiteError(f"suite {self.name!r}: unknown skill {self.skill!r}")

    @classmethod
    def of_skill(cls, spec: ControlledSkill) -> Suite:
        """The suite a controller-driven skill's spec declares (it must declare one)."""
        assert spec.suite is not None
        own = spec.suite
        return cls(own.name, own.description, own.splits, skill=spec.name, n_objects=own.n_objects)

    @property
    def flat_target(self) -> bool:
        """Scenes for a skill on flat targets (push_then_grasp) put a flat target on the table."""
        return CONTROLLED_SKILLS.get(self.skill).flat_target

    def split_plan(self, episodes: int) -> list[str]:
        """The split of each of `episodes` episodes: counts proportional to the weights, in blocks.

        Counts use the largest-remainder rule, so 1,287 generalization episodes are exactly
        360 / 618 / 309 like the paper's, and any count stays as close to those weights as it can.
        """
        if episodes <= 0:
            raise SuiteError(f"episodes must be positive, got {episodes}")
        total = sum(weight for _, weight in self.splits)
        quotas = [episodes * weight / total for _, weight in self.splits]
        counts = [int(quota) for quota in quotas]
        by_remainder = sorted(range(len(quotas)), key=lambda i: (counts[i] - quotas[i], i))
        for i in by_remainder[: episodes - sum(counts)]:
            counts[i] += 1
        return [split for (split, _), count in zip(self.splits, counts, strict=True) for _ in range(count)]


# The paper's protocol for grasping, and long-horizon prompts; skills' own suites are added below.
_PROTOCOL_SUITES: dict[str, Suite] = {
    suite.name: suite
    for suite in (
        Suite("seen", "seen objects, white table, white light (Table 1a)", (("seen", 1),)),
        Suite("unseen-objects", "held-out object types, shapes, colours, sizes", (("unseen-objects", 1),)),
        Suite(
            "unseen-backgrounds", "seen objects on 6 held-out table textures", (("unseen-backgrounds", 1),)
        ),
        Suite("unseen-lighting", "seen objects under 3 held-out lightings", (("unseen-lighting", 1),)),
        Suite(
            "generalization",
            "the three unseen splits weighted like the paper's 360 / 618 / 309 tests (Table 1c)",
            (("unseen-objects", 360), ("unseen-backgrounds", 618), ("unseen-lighting", 309)),
        ),
        Suite(
            "single-object",
            "one seen object alone on the white table (Table 1d)",
            (("seen", 1),),
            n_objects=1,
        ),
        Suite(
            "long-horizon",
            "the paper's four prompts (clear the table, grasp all bottles / green objects / food) run "
            "by the whole agent, prompts round-robin; held-out objects (Table 1b)",
            ((LONG_HORIZON_SPLIT, 1),),
            n_objects=4,
            run_episode=run_long_horizon_episode,
            report=long_horizon_report,
            # The prompts' trees also use push_then_grasp, which ships no learned checkpoint: the
            # sim expert backs every skill unless --controller names another controller.
            default_controller="scripted",
        ),
    )
}


def _skill_suites() -> dict[str, Suite]:
    """The suites the controller-driven skills' specs declare, registered at any time."""
    suites = {}
    for spec in CONTROLLED_SKILLS:
        if spec.suite is not None:
            if spec.suite.name in _PROTOCOL_SUITES:
                raise SuiteError(f"skill {spec.name!r} declares suite {spec.suite.name!r}, which exists")
            suites[spec.suite.name] = Suite.of_skill(spec)
    return suites


def all_suites() -> dict[str, Suite]:
    """Every suite: the paper's protocol, long-horizon, and each controller-driven skill's own."""
    return {**_PROTOCOL_SUITES, **_skill_suites()}


SUITES = all_suites()  # as registered at import; `get_suite` also finds skills registered later


def get_suite(name: str) -> Suite:
    """The suite called `name`, or a SuiteError listing the suites there are."""
    suites = all_suites()
    try:
        return suites[name]
    except KeyError:
        raise SuiteError(f"unknown suite {name!r}; valid suites: {', '.join(suites)}") from None
