"""Tolerant reading of JSON out of model replies.

VLMs wrap JSON in ```json fences, surround it with prose, use single quotes,
Python literals, bare keys and trailing commas. We read all of that with a small
lenient parser (never `eval`: replies come from the network) and return every
JSON value found, so each stage can pick the one that carries its fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from dexagent.agent.planner.errors import ReplyError

_FENCE = re.compile(r"```[A-Za-z0-9_+-]*[ \t]*\n?(.*?)```", re.DOTALL)
_LITERALS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "True": True,
    "False": False,
    "None": None,
}
# Non-standard, but some servers emit them; reading them lets the box check say "not finite".
_LITERALS.update({"NaN": float("nan"), "nan": float("nan"), "Infinity": float("inf")})
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"', "'": "'"}
_TRUE_WORDS = {"true", "yes", "y", "1", "success", "successful", "succeeded", "complete", "completed", "done"}
_FALSE_WORDS = {
    "false",
    "no",
    "n",
    "0",
    "failure",
    "failed",
    "fail",
    "incomplete",
    "not complete",
    "not done",
}


class _Syntax(Exception):
    """Internal: the text at this position is not a (lenient) JSON value."""


class _LenientParser:
    """Recursive-descent parser for JSON plus the liberties models take with it."""

    # Replies nest a few levels; a deeper run of brackets is junk, and must not exhaust the stack.
    MAX_DEPTH = 32

    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos
        self.depth = 0

    def _skip(self) -> None:
        text = self.text
        while self.pos < len(text):
            if text[self.pos].isspace():
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                self.pos = len(text) if end < 0 else end + 2
            else:
                return

    def _peek(self) -> str:
        self._skip()
        if self.pos >= len(self.text):
            raise _Syntax("unexpected end of text")
        return self.text[self.pos]

    def value(self) -> Any:
        char = self._peek()
        if char in "{[":
            self.depth += 1
            if self.depth > self.MAX_DEPTH:
                raise _Syntax("nested too deeply")
            value = self._object() if char == "{" else self._array()
            self.depth -= 1
            return value
        if char in "\"'":
            return self._string()
        if char in "-+.0123456789":
            return self._number()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.text, self.pos)
        if match and match.group() in _LITERALS:
            self.pos = match.end()
            return _LITERALS[match.group()]
        raise _Syntax(f"unexpected {char!r}")

    def _object(self) -> dict[str, Any]:
        self.pos += 1
        result: dict[str, Any] = {}
        while True:
            char = self._peek()
            if char == "}":
                self.pos += 1
                return result
            if char == ",":  # trailing or doubled commas
                self.pos += 1
                continue
            key = self._key()
            if self._peek() not in ":=":
                raise _Syntax(f"expected ':' after key {key!r}")
            self.pos += 1
            result[key] = self.value()

    def _key(self) -> str:
        if self._peek() in "\"'":
            return self._string()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_ -]*").match(self.text, self.pos)
        if not match:
            raise _Syntax("expected a key")
        self.pos = match.end()
        return match.group().strip()

    def _array(self) -> list[Any]:
        self.pos += 1
        result: list[Any] = []
        while True:
            char = self._peek()
            if char == "]":
                self.pos += 1
                return result
            if char == ",":
                self.pos += 1
                continue
            result.append(self.value())

    def _string(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == quote:
                self.pos += 1
                return _join_surrogates("".join(out))
            if char == "\\" and self.pos + 1 < len(text):
                nxt = text[self.pos + 1]
                if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[self.pos + 2 : self.pos + 6]):
                    out.append(chr(int(text[self.pos + 2 : self.pos + 6], 16)))
                    self.pos += 6
                    continue
                out.append(_ESCAPES.get(nxt, "\\" + nxt))
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        raise _Syntax("unterminated string")

    def _number(self) -> float | int:
        match = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?").match(self.text, self.pos)
        if not match:
            raise _Syntax("bad number")
        self.pos = match.end()
        token = match.group()
        is_int = re.fullmatch(r"[-+]?\d+", token) is not None
        return int(token) if is_int else float(token)


def _join_surrogates(text: str) -> str:
    """JSON writes characters beyond U+FFFF as two \\u escapes (a surrogate pair); make them one."""
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return text  # a lone surrogate: keep it as written


def _scan(text: str) -> list[Any]:
    """Every object or array in `text`, left to right, skipping prose between them."""
    values: list[Any] = []
    pos = 0
    while pos < len(text):
        starts = [i for i in (text.find("{", pos), text.find("[", pos)) if i >= 0]
        if not starts:
            break
        start = min(starts)
        parser = _LenientParser(text, start)
        try:
            values.append(parser.value())
            pos = parser.pos
        except _Syntax:
            pos = start + 1
    return values


def json_values(reply: str) -> list[Any]:
    """All JSON values in a model reply: fenced blocks first; prose around them is ignored."""
    fenced = [value for block in _FENCE.findall(reply) for value in _scan(block)]
    return fenced if fenced else _scan(reply)


def normalise_key(key: str) -> str:
    """'Bounding Box' / 'bounding-box' / 'BoundingBox' -> 'bounding_box'."""
    key = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key.strip())
    return re.sub(r"[\s\-]+", "_", key).lower()


def dicts_in(values: Iterable[Any]) -> list[dict[str, Any]]:
    """Every dict in `values`, also inside lists (Qwen replies `[{"bbox_2d": ...}]`), keys normalised."""
    found: list[dict[str, Any]] = []
    for value in values:
        if isinstance(value, Mapping):
            found.append({normalise_key(str(k)): v for k, v in value.items()})
        elif isinstance(value, list):
            found.extend(dicts_in(value))
    return found


def field(record: Mapping[str, Any], synonyms: Iterable[str]) -> list[Any]:
    """The values of every key in `record` that is one of `synonyms` (already normalised)."""
    return [record[name] for name in synonyms if name in record]


def as_bool(value: Any, where: str) -> bool:
    """Read a yes/no answer from a bool, number or word; a reply saying both is ambiguous."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        words = set(re.findall(r"[a-z]+", value.lower()))
        text = value.strip().lower().rstrip(".!")
        if text in _TRUE_WORDS:
            return True
        if text in _FALSE_WORDS:
            return False
        says_true = bool(words & {"true", "yes"})
        says_false = bool(words & {"false", "no", "not"})
        if says_true != says_false:
            return says_true
        if says_true and says_false:
            raise ReplyError(
                f'"{where}" says both yes and no ({value!r}); answer with exactly one of true or false.'
            )
    raise ReplyError(f'"{where}" must be true or false, got {value!r}.')


def reasoning_in(records: Iterable[Mapping[str, Any]]) -> str:
    """The model's reasoning, from whichever synonym it used."""
    for record in records:
        for text in field(
            record,
            (
                "reasoning",
                "reason",
                "thought",
                "thoughts",
                "explanation",
                "rationale",
                "analysis",
                "think",
                "thinking",
            ),
        ):
            if isinstance(text, str) and text.strip():
                return text.strip()
    return ""
