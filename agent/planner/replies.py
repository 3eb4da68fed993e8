"""Turning one model reply into the typed value a stage returns, or a `ReplyError` to feed back.

Models answer with different key names, bare strings, words for booleans; we accept what
has one clear meaning and reject (for repair) what has none or two.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dexagent.agent.planner.boxes import BoxFormat, Size, coordinates_in_reply, to_image_box
from dexagent.agent.planner.errors import ReplyError
from dexagent.agent.planner.parsing import as_bool, dicts_in, field, json_values, normalise_key, reasoning_in
from dexagent.controller.skill_spec import CONTROLLED_SKILLS, DEFAULT_SKILL, ControlledSkill
from dexagent.hardware import Box
from dexagent.skills.planning import Instruction, Plan, Verdict

_LIST_KEYS = (
    "instructions",
    "instruction",
    "next_instructions",
    "next_instruction",
    "steps",
    "plan",
    "actions",
    "tasks",
    "grasps",
    "targets",
    "objects",
)
_SKILL_KEYS = ("skill", "action", "primitive", "skill_name", "type", "motion")
_TARGET_KEYS = ("target", "object", "target_object", "object_name", "item", "obj", "name")
_TEXT_KEYS = ("text", "instruction", "sentence", "description", "command", "step")
VERIFY_KEYS = (
    "success",
    "grasped",
    "is_grasped",
    "grasp_success",
    "held",
    "is_held",
    "holding",
    "successful",
    "ok",
    "result",
    "answer",
    "verdict",
)
COMPLETE_KEYS = (
    "complete",
    "completed",
    "is_complete",
    "done",
    "finished",
    "task_complete",
    "prompt_complete",
    "ok",
    "result",
    "answer",
    "verdict",
)


def _answer(reply: str) -> tuple[str, str]:
    """(the answer, the thinking) of a reply; thinking models (Qwen3-VL, GLM-4.1V-Thinking) write
    `<think>...</think>` before the answer, sometimes `<answer>...</answer>` around it. JSON inside
    the thinking is a draft, not the answer, so it must not be read as one."""
    thinking = ""
    if "</think>" in reply:
        head, _, reply = reply.rpartition("</think>")
        thinking = head.replace("<think>", "").strip()
    elif reply.lstrip().startswith("<think>"):
        raise ReplyError("the reply stopped inside <think>; finish thinking and give the answer.")
    inner = re.search(r"<answer>(.*?)(?:</answer>|$)", reply, flags=re.DOTALL)
    if inner:
        reply = inner.group(1)
    if not reply.strip():
        raise ReplyError("the reply was empty; answer with the JSON object asked for.")
    return reply, thinking[:1000]


def _prose(reply: str) -> str:
    """The reply without code fences, for reasoning when the model gave no reasoning field."""
    return re.sub(r"```.*?```", " ", reply, flags=re.DOTALL).strip()[:1000]


def _skill(raw: Any, number: int) -> str:
    if raw is None:
        return DEFAULT_SKILL
    spec = CONTROLLED_SKILLS.by_word(str(raw))
    if spec is None:
        allowed = ", ".join(f'"{s}"' for s in CONTROLLED_SKILLS.names())
        raise ReplyError(f'instruction {number} has unknown skill "{raw}"; use one of {allowed}.')
    return spec.name


def _leading_verb(text: str, whole_word: bool = True) -> tuple[ControlledSkill, int] | None:
    """The skill whose name or synonym starts `text` ("please push the plate ..."), and where it ends.

    Words are every registered skill's, longest first, so "push and grasp" wins over "push".
    """
    words = [(word, spec) for spec in CONTROLLED_SKILLS for word in spec.words()]
    words.sort(key=lambda pair: -len(pair[0]))
    for word, spec in words:
        verb = r"[\s_-]+".join(re.escape(part) for part in word.split())
        match = re.match(r"^\s*(?:please\s+)?" + verb + (r"\s+" if whole_word else ""), text, re.IGNORECASE)
        if match:
            return spec, match.end()
    return None


def _target_from_text(text: str) -> str:
    """'push the plate to the table edge, then grasp it' -> 'the plate'."""
    leading = _leading_verb(text)
    target = text[leading[1] :] if leading is not None else text
    target = re.sub(r",?\s*(?:and\s+)?then\s+(?:grasp|pick).*$", "", target, flags=re.IGNORECASE)
    target = re.sub(
        r"\s+(?:to|toward|towards|over|off)\s+the\s+(?:table\s+)?edge.*$", "", target, flags=re.IGNORECASE
    )
    return target.strip(" .")


def _instruction(item: Any, number: int) -> Instruction:
    if isinstance(item, str):
        item = {"text": item}
    if not isinstance(item, Mapping):
        raise ReplyError(f"instruction {number} must be an object with skill, target and text, got {item!r}.")
    record = {normalise_key(str(k)): v for k, v in item.items()}
    texts = [t for t in field(record, _TEXT_KEYS) if isinstance(t, str) and t.strip()]
    targets = [t for t in field(record, _TARGET_KEYS) if isinstance(t, str) and t.strip()]
    skills = field(record, _SKILL_KEYS)
    text = texts[0].strip() if texts else ""
    skill_raw = skills[0] if skills else None
    # No skill given: the text's verb says it ("pushing the plate ..." is push_then_grasp).
    leading = _leading_verb(text, whole_word=False) if skill_raw is None and text else None
    skill = leading[0].name if leading is not None else _skill(skill_raw, number)
    target = targets[0].strip() if targets else _target_from_text(text)
    if not target:
        raise ReplyError(f'instruction {number} names no target object; give "target", e.g. "the red cup".')
    if not text:
        text = CONTROLLED_SKILLS.get(skill).instruction_text(target)
    return Instruction(skill=skill, target=target, text=text)


def _instruction_list(values: list[Any]) -> tuple[list[Any], dict[str, Any]] | None:
    """The instruction items and the record holding them, wherever the model put them."""
    for value in values:
        if isinstance(value, Mapping):
            record = {normalise_key(str(k)): v for k, v in value.items()}
            lists = [items for items in field(record, _LIST_KEYS) if isinstance(items, list)]
            if lists:
                return lists[0], record
            if field(record, _TARGET_KEYS):
                return [record], record  # a single bare instruction object
            singles = [item for item in field(record, _LIST_KEYS) if isinstance(item, Mapping | str) and item]
            if singles:
                return [singles[0]], record
        elif isinstance(value, list) and all(isinstance(v, Mapping | str) for v in value):
            return value, {}
    return None


def plan_from_reply(reply: str) -> Plan:
    """The plan in a `propose` reply; an empty list means nothing is left to do."""
    reply, thinking = _answer(reply)
    found = _instruction_list(json_values(reply))
    if found is None:
        raise ReplyError(
            'no instruction list found; reply with {"reasoning": "...", "instructions": '
            '[{"skill": "grasp", "target": "...", "text": "..."}]} (an empty list when nothing is left).'
        )
    items, record = found
    instructions = tuple(_instruction(item, number) for number, item in enumerate(items, start=1))
    return Plan(instructions=instructions, reasoning=reasoning_in([record]) or thinking or _prose(reply))


def verdict_from_reply(reply: str, answer_keys: tuple[str, ...]) -> Verdict:
    """A yes/no verdict (`success` for grasps, `complete` for prompts); contradictions are rejected."""
    reply, thinking = _answer(reply)
    records = dicts_in(json_values(reply))
    answers: list[tuple[str, bool]] = []
    for record in records:
        answers.extend((key, as_bool(record[key], key)) for key in answer_keys if key in record)
    want = f'{{"reasoning": "...", "{answer_keys[0]}": true or false}}'
    if not answers:
        words = set(re.findall(r"\b(true|false)\b", reply.lower()))
        leading = re.match(r"^\W*(yes|no)\b", reply.lower())
        if len(words) == 1:
            answers = [("text", words.pop() == "true")]
        elif not words and leading:
            answers = [("text", leading.group(1) == "yes")]
        elif words:
            raise ReplyError(f"the reply says both true and false; give exactly one answer as {want}.")
        else:
            raise ReplyError(f"no true/false answer found; reply with {want}.")
    values = {value for _, value in answers}
    if len(values) > 1:
        shown = ", ".join(f"{key}={str(value).lower()}" for key, value in answers)
        raise ReplyError(f"the reply says both true and false ({shown}); give exactly one answer as {want}.")
    return Verdict(ok=values.pop(), reasoning=reasoning_in(records) or thinking or _prose(reply))


def box_from_reply(reply: str, box_format: BoxFormat, sent_size: Size, image_size: Size) -> tuple[Box, str]:
    """The target box in original-image pixels, and the model's reasoning."""
    reply, thinking = _answer(reply)
    coords = coordinates_in_reply(reply, box_format)
    box = to_image_box(coords, box_format, sent_size, image_size)
    return box, reasoning_in(dicts_in(json_values(reply))) or thinking or _prose(reply)
