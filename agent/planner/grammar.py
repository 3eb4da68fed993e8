"""The `scene` planner's prompt grammar: which objects a prompt asks for.

    clear the table                      -> every object
    grasp all bottles / pick up every can -> all objects of a kind (category, type or tag)
    grasp all green objects              -> all objects of a colour
    grasp all food                       -> all objects tagged food
    grasp the red cup / pick up the apple -> one object (colour and kind optional)

Words are checked against the object library's vocabulary, so a typo fails clearly
instead of silently matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from dexagent.agent.planner.errors import PromptNotUnderstoodError
from dexagent.hardware.sim.objects import COLOURS, SEEN_TYPES, UNSEEN_TYPES

_CLEAR = re.compile(
    r"^(?:clear|clean|tidy|empty)(?:\s+up)?(?:\s+(?:the|this|my))?\s+(?:table|desk|workspace)$"
)
_EVERYTHING = {"everything", "all", "anything"}
_VERBS = re.compile(
    r"^(?:grasp|grab|pick\s+up|pick|take|lift|get|collect|remove|clear|fetch|hand\s+me|give\s+me)\b\s*"
)
_POLITE = re.compile(r"^(?:please|robot|now|could\s+you|can\s+you|would\s+you|kindly)\b[\s,]*")
_TRAILER = re.compile(r"\s+(?:from|on|off|of|in)\s+(?:the|this)\s+(?:table|desk)\b.*$|\s+please$")
# True: all matches; False: one object; None: says nothing about how many ("the" bottles / "the" bottle).
_QUANTIFIERS = {
    "all": True,
    "every": True,
    "each": True,
    "a": False,
    "an": False,
    "one": False,
    "any": False,
    "single": False,
    "the": None,
    "of": None,
    "some": None,
}
_GENERIC = {"object", "objects", "thing", "things", "item", "items", "stuff"}
_COLOUR_ALIASES = {"gray": "grey"}
_FILLER = {"and", "or", ","}


class SceneObjectLike(Protocol):
    """What the grammar needs to know about an object (the sim's `SceneObject` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def colour(self) -> str: ...
    @property
    def tags(self) -> frozenset[str]: ...


def object_words(obj: SceneObjectLike) -> set[str]:
    """Every word that names the kind of `obj`: category, tags and its type's words (not its colour).

    Names are "<colour>_<type>[_n]" and tags hold the colour too; the colour is left out so that
    "the orange" (a fruit) does not also match an orange bottle.
    """
    words = {obj.category}
    for tag in obj.tags - {obj.colour}:
        words.add(tag)
        words.update(tag.split("_"))
    name = obj.name.split("_")
    if len(name) > 1 and name[0] == obj.colour:
        name = name[1:]
    words.update(w for w in name if not w.isdigit())
    return words


def _library_words() -> set[str]:
    words: set[str] = set()
    for template in (*SEEN_TYPES, *UNSEEN_TYPES):
        words.update({template.category, *template.object_type.split("_")})
    return words | {"food", "flat"}


LIBRARY_WORDS = frozenset(_library_words())
COLOUR_WORDS = frozenset([*COLOURS, *_COLOUR_ALIASES])


def _singular(word: str, known: set[str] | frozenset[str]) -> tuple[str, bool]:
    """(singular form, whether the word was plural) for words of the vocabulary."""
    if word in known:
        return word, False
    for suffix, replacement in (("ies", "y"), ("ves", "f"), ("es", ""), ("s", "")):
        if word.endswith(suffix) and word[: -len(suffix)] + replacement in known:
            return word[: -len(suffix)] + replacement, True
    return word, False


def _plural(phrase: str) -> str:
    if phrase.endswith(("food", "fruit")):
        return phrase
    if phrase.endswith(("s", "x", "ch", "sh")):
        return phrase + "es"
    if re.search(r"[^aeiou]y$", phrase):
        return phrase[:-1] + "ies"
    return phrase + "s"


@dataclass(frozen=True)
class TargetQuery:
    """Which objects a prompt asks for: all matches (`plural`) or one; kind words and colours must all fit."""

    text: str
    plural: bool
    colours: frozenset[str]
    kind: tuple[str, ...]  # e.g. ("bottle",), ("soda", "can"), () for any object

    def matches(self, obj: SceneObjectLike) -> bool:
        """Whether `obj` is one of the objects asked for."""
        if self.colours and obj.colour not in self.colours:
            return False
        return set(self.kind) <= object_words(obj)

    def describe(self) -> str:
        """'all green objects', 'the red cup', 'every object'."""
        noun = " ".join(self.kind) or "object"
        colour = " or ".join(sorted(self.colours))
        phrase = f"{colour} {noun}".strip()
        return f"all {_plural(phrase)}" if self.plural else f"the {phrase}"


GRAMMAR_HELP = (
    "'clear the table'; 'grasp all <kind>s' (bottles, cans, fruit, toys, ...); 'grasp all <colour> objects'; "
    "'grasp all food'; 'grasp the <colour> <kind>' or 'pick up the <kind>' (e.g. 'grasp the red cup', "
    "'pick up the apple'); verbs grasp/pick up/grab/take/lift/get/remove"
)


def _fail(prompt: str, why: str, scene_words: Iterable[str] = ()) -> PromptNotUnderstoodError:
    here = sorted({word for word in scene_words if "_" not in word})  # "soda_can" is also "soda", "can"
    listed = f" Objects in this scene can be named by: {', '.join(here)}." if here else ""
    return PromptNotUnderstoodError(
        f"the scene planner does not understand the prompt {prompt!r}: {why}. "
        f"It understands: {GRAMMAR_HELP}.{listed}"
    )


def parse_description(
    prompt: str, description: str, known: set[str] | frozenset[str], scene_words: Iterable[str] = ()
) -> TargetQuery:
    """A noun phrase such as 'all the green objects' or 'the red cup' as a query."""
    words = [w for w in re.findall(r"[a-z0-9]+", description) if w not in _FILLER]
    plural: bool | None = None
    while words and words[0] in _QUANTIFIERS:
        quantity = _QUANTIFIERS[words.pop(0)]
        plural = quantity if plural is None else plural
    colours: set[str] = set()
    kind: list[str] = []
    for position, word in enumerate(words):
        # "orange" is a colour and a fruit: as the last word with no other kind, it is the fruit.
        is_noun = position == len(words) - 1 and not kind and word in known
        if word in COLOUR_WORDS and not is_noun:
            colours.add(_COLOUR_ALIASES.get(word, word))
        elif word in _EVERYTHING:
            plural = True
        elif word in _GENERIC:
            plural = word.endswith("s") if plural is None else plural
        else:
            singular, was_plural = _singular(word, known)
            if singular not in known:
                raise _fail(prompt, f"no object kind or colour is called {word!r}", scene_words)
            kind.append(singular)
            plural = True if was_plural and plural is None else plural
    if not words and not plural:
        raise _fail(prompt, "it names no object", scene_words)
    return TargetQuery(text=prompt, plural=bool(plural), colours=frozenset(colours), kind=tuple(kind))


def parse_prompt(prompt: str, scene_objects: Iterable[SceneObjectLike] = ()) -> TargetQuery:
    """The objects `prompt` asks for; PromptNotUnderstoodError, listing the grammar, when not understood."""
    scene_words = {w for obj in scene_objects for w in object_words(obj)}
    known = LIBRARY_WORDS | scene_words
    text = re.sub(r"[.!?]+$", "", prompt.strip().lower()).strip()
    text = re.sub(r"\s+", " ", text.replace("'", ""))
    while _POLITE.match(text):
        text = _POLITE.sub("", text, count=1)
    text = _TRAILER.sub("", text).strip()
    if _CLEAR.match(text) or text in ("clear everything", "grasp everything", "pick up everything"):
        return TargetQuery(text=prompt, plural=True, colours=frozenset(), kind=())
    verb = _VERBS.match(text)
    if not verb:
        raise _fail(prompt, "it does not start with a verb such as 'grasp' or 'pick up'", scene_words)
    return parse_description(prompt, text[verb.end() :], known, scene_words)
