"""Controller-driven skills (grasp, push_then_grasp): one spec each, read by every layer.

A controller-driven skill is a tree leaf that runs a controller closed-loop on one target.
Its spec says everything the rest of dexagent needs to know about it: the skill leaf and its
default budget (`skills/`), the sim rollout's budget and scenes (`controller/data`, eval),
the scripted expert (`controller/scripted.py`), how the planner offers and recognises it
(`agent/planner`), the bundled tree for a one-object prompt and its evaluation suite
(`agent/`), and the skills `dexagent run` checks controllers for (`cli/`). It lives here,
below everything but the hardware, so that every layer may import it; the expert it names
lives in the sim and is imported only when a scripted controller is built.

Adding a controller-driven skill is its expert's module plus one `CONTROLLED_SKILLS.register`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

DEFAULT_SKILL = "grasp"  # what an instruction that names no skill means


class ControlledSkillError(ValueError):
    """A controller-driven skill's spec is malformed or clashes with one already registered."""


class UnknownControlledSkillError(ControlledSkillError, LookupError):
    """No controller-driven skill has this name."""


@dataclass(frozen=True)
class SkillSuite:
    """The evaluation suite that measures one skill: `dexagent eval --suite NAME`."""

    name: str
    description: str
    splits: tuple[tuple[str, int], ...]  # (scene split, weight); episodes are shared out by weight
    n_objects: int = 6


@dataclass(frozen=True)
class ControlledSkill:
    """Everything the layers need to know about one controller-driven skill."""

    name: str
    # One line: the skill leaf's description (`dexagent skills`) and the planner's skill menu.
    description: str
    budget_s: float  # the skill leaf's default time budget, grounding included (tree runs)
    attempt_seconds: float  # sim seconds one rollout attempt may take, hold time included (collect, eval)
    # Its targets are flat objects (plates, books): scenes put a flat target on the table, rollouts
    # choose flat targets, the offline planner picks this skill for flat objects.
    flat_target: bool = False
    # "module:attribute" of the sim's scripted expert, a factory (SimRobot, target index) -> expert;
    # None: no scripted expert (only learned controllers).
    expert: str | None = None
    # Words a VLM may use for the skill in a reply ("pick up" for grasp); an instruction's text
    # that starts with one of them means this skill.
    synonyms: tuple[str, ...] = ()
    sentence: str = "{target}"  # an instruction's text when the model gave none
    tree: str | None = None  # the bundled tree for a one-object prompt; None: the default skill's
    suite: SkillSuite | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ControlledSkillError(f"skill name {self.name!r} must be an identifier (letters, digits, _)")
        if not self.description or "\n" in self.description:
            raise ControlledSkillError(f"skill {self.name!r} needs a one-line description")
        if self.budget_s <= 0 or self.attempt_seconds <= 0:
            raise ControlledSkillError(f"skill {self.name!r}: budget_s and attempt_seconds must be positive")
        if self.expert is not None and self.expert.count(":") != 1:
            raise ControlledSkillError(
                f"skill {self.name!r}: expert must be 'module:attribute', got {self.expert!r}"
            )
        if "{target}" not in self.sentence:
            raise ControlledSkillError(f"skill {self.name!r}: sentence must contain '{{target}}'")

    def words(self) -> tuple[str, ...]:
        """The skill's name and synonyms as a model may write them, the name first."""
        return tuple(dict.fromkeys((self.name.replace("_", " "), *self.synonyms)))

    def instruction_text(self, target: str) -> str:
        """The instruction sentence for `target`, e.g. "grasp the red cup"."""
        return self.sentence.replace("{target}", target)

    def target_of(self, text: str) -> str:
        """The object an instruction for this skill names: "grasp the red cup" -> "red cup".

        The skill's own sentence is read backwards; otherwise a leading skill word (name or
        synonym) is dropped. A leading "the" goes; text that is nothing but the verb stays whole."""
        stripped = " ".join(text.split())
        lowered = stripped.lower()
        prefix, _, suffix = self.sentence.lower().partition("{target}")
        if lowered.startswith(prefix) and lowered.endswith(suffix) and len(lowered) > len(prefix + suffix):
            stripped = stripped[len(prefix) : len(stripped) - len(suffix)]
        else:
            for word in sorted(self.words(), key=len, reverse=True):
                if lowered.startswith(word + " "):
                    stripped = stripped[len(word) + 1 :]
                    break
        stripped = stripped.strip(" ,.")
        if stripped.lower().startswith("the "):
            stripped = stripped[4:]
        return stripped.strip() or " ".join(text.split())

    def expert_factory(self) -> Callable[..., Any]:
        """The scripted expert's factory, imported now (the sim is not imported before it is needed)."""
        if self.expert is None:
            raise ControlledSkillError(f"skill {self.name!r} has no scripted expert")
        module, _, attribute = self.expert.partition(":")
        factory = getattr(importlib.import_module(module), attribute)
        if not callable(factory):
            raise ControlledSkillError(f"skill {self.name!r}: expert {self.expert!r} is not callable")
        return factory


Listener = Callable[[ControlledSkill], None]


class ControlledSkillRegistry:
    """Controller-driven skills by name, in registration order.

    Layers that build something per skill (the skill leaves) subscribe: they hear of every skill
    registered before and after, and of skills taken away again.
    """

    def __init__(self) -> None:
        self._skills: dict[str, ControlledSkill] = {}
        self._listeners: list[tuple[Listener, Listener | None]] = []

    def register(self, spec: ControlledSkill) -> ControlledSkill:
        """Add a skill; a name, or a word for it, that another skill has already is an error."""
        if spec.name in self._skills:
            raise ControlledSkillError(f"controller-driven skill {spec.name!r} is already registered")
        words = {_normal(word) for word in spec.words()}
        for other in self._skills.values():
            shared = words & {_normal(word) for word in other.words()}
            if shared:
                raise ControlledSkillError(
                    f"skill {spec.name!r}: {', '.join(sorted(shared))} already means {other.name!r}"
                )
        self._skills[spec.name] = spec
        for added, _ in self._listeners:
            added(spec)
        return spec

    def unregister(self, name: str) -> None:
        """Take a skill away again (a plug-in unloaded, a test finished)."""
        spec = self.get(name)
        del self._skills[name]
        for _, removed in self._listeners:
            if removed is not None:
                removed(spec)

    def subscribe(self, added: Listener, removed: Listener | None = None) -> None:
        """Call `added` for every skill registered so far and from now on, `removed` when one goes."""
        self._listeners.append((added, removed))
        for spec in list(self._skills.values()):
            added(spec)

    def get(self, name: str) -> ControlledSkill:
        """The skill called `name`, or `UnknownControlledSkillError` naming the valid ones."""
        try:
            return self._skills[name]
        except KeyError:
            raise UnknownControlledSkillError(
                f"unknown skill {name!r}; valid skills: {', '.join(self._skills)}"
            ) from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._skills)

    def by_word(self, word: str) -> ControlledSkill | None:
        """The skill a model means by `word` ("pick up", "push-and-grasp"), None when none."""
        wanted = _normal(word)
        for spec in self._skills.values():
            if wanted in {_normal(w) for w in spec.words()}:
                return spec
        return None

    def for_flat_target(self, flat: bool) -> ControlledSkill:
        """The first skill for flat (or for not flat) targets."""
        for spec in self._skills.values():
            if spec.flat_target == flat:
                return spec
        kind = "flat" if flat else "upright"
        raise UnknownControlledSkillError(f"no controller-driven skill takes {kind} targets")

    def __contains__(self, name: object) -> bool:
        return name in self._skills

    def __iter__(self) -> Iterator[ControlledSkill]:
        return iter(list(self._skills.values()))

    def __len__(self) -> int:
        return len(self._skills)


def _normal(word: str) -> str:
    """'Pick up' / 'pick-up' / 'pick_up' -> 'pickup': how replies spell a skill varies."""
    return "".join(ch for ch in word.lower() if ch.isalnum())


CONTROLLED_SKILLS = ControlledSkillRegistry()

CONTROLLED_SKILLS.register(
    ControlledSkill(
        name="grasp",
        description="Grasp the target and lift it "
        "(ground its box, run the grasp controller, check the grasp).",
        budget_s=15.0,
        attempt_seconds=12.0,  # a scripted grasp needs ~7 s
        expert="dexagent.hardware.sim.expert:GraspExpert",
        synonyms=("pick up", "pick", "grab", "take", "lift"),
        sentence="grasp {target}",
        tree="grasp_object",
    )
)
CONTROLLED_SKILLS.register(
    ControlledSkill(
        name="push_then_grasp",
        description="Push a flat target to the table edge until it overhangs, then grasp it from the side.",
        budget_s=30.0,
        attempt_seconds=20.0,  # a scripted push and grasp needs ~10 s
        flat_target=True,
        expert="dexagent.hardware.sim.push_expert:PushThenGraspExpert",
        synonyms=("push and grasp", "push grasp", "push", "nonprehensile grasp"),
        sentence="push {target} over the table edge, then grasp it",
        tree="nonprehensile_grasp",
        suite=SkillSuite(
            "nonprehensile",
            "a flat object in clutter: push it over the table edge, then grasp it; unseen splits "
            "weighted like the paper's 36 / 72 / 36 tests (Table 1e)",
            (("unseen-objects", 36), ("unseen-backgrounds", 72), ("unseen-lighting", 36)),
        ),
    )
)
