"""What we ask the VLM at each stage of the paper's planner loop, and the JSON we want back.

Stages: propose the next grasp instructions for a prompt, ground one target as a box in the
head image, verify a grasp (head + wrist images), check whether the prompt is complete
(first vs current head image). Every answer carries the model's reasoning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dexagent.agent.planner.boxes import BoxFormat, Size, describe_convention
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.skills.planning import AttemptRecord, Instruction

SYSTEM_PROMPT = (
    "You are the high-level planner of a robot arm with a five-fingered dexterous hand. "
    "A head camera looks down at a table with objects on it; a wrist camera sits on the hand. "
    "You turn a user's prompt into grasping instructions, one object at a time, find each target in "
    "the head image, and judge from the images whether a grasp worked and whether the prompt is done. "
    "Always answer with exactly one JSON object and nothing else, and always include your reasoning "
    'in the field "reasoning".'
)


def skill_menu() -> str:
    """One line per skill the planner may choose: the controller-driven skills, as their specs say."""
    return "\n".join(f'- "{spec.name}": {spec.description}' for spec in CONTROLLED_SKILLS)


def _history_lines(history: Sequence[AttemptRecord]) -> str:
    if not history:
        return "none yet"
    lines = []
    for number, attempt in enumerate(history, start=1):
        outcome = "succeeded" if attempt.success else "failed"
        reason = f" ({attempt.reason})" if attempt.reason else ""
        lines.append(
            f'{number}. {attempt.instruction.skill} "{attempt.instruction.target}": {outcome}{reason}'
        )
    return "\n".join(lines)


def propose_prompt(prompt: str, history: Sequence[AttemptRecord]) -> str:
    """Ask for the instructions still needed to fulfil `prompt` (image: the head camera now)."""
    return (
        f"User prompt: {prompt!r}\n"
        "The image is the head camera's current view of the table.\n"
        f"Grasp attempts so far:\n{_history_lines(history)}\n\n"
        "List the objects that still have to be grasped to fulfil the prompt, one instruction per object, "
        "in the order to grasp them (nearest and least cluttered first). Describe each target so it can be "
        "found in the image without confusion (colour, kind, position when several look alike). "
        "Objects already grasped are no longer on the table. If nothing is left to do, give an empty list.\n"
        f"Skills:\n{skill_menu()}\n\n"
        'Reply with JSON only: {"reasoning": "<why>", "instructions": [{"skill": "grasp", '
        '"target": "the red cup", "text": "grasp the red cup"}]}'
    )


def ground_prompt(instruction: Instruction, box_format: BoxFormat, sent_size: Size) -> str:
    """Ask for the target's bounding box in the head image, in the model's own box convention."""
    convention = describe_convention(box_format, sent_size)
    if box_format == "qwen-vl-chat":
        # Qwen-VL-Chat grounds with its trained tag syntax, not JSON.
        return (
            f"Instruction: {instruction.text}\n"
            f"Output the bounding box of <ref>{instruction.target}</ref> in the image as {convention}. "
            "Explain briefly first, then give exactly one box."
        )
    return (
        f"Instruction: {instruction.text}\n"
        f"Find {instruction.target} in the image and give its bounding box as {convention}. "
        "The box must tightly enclose that one object.\n"
        'Reply with JSON only: {"reasoning": "<how you found it>", "box": [x1, y1, x2, y2]}'
    )


def verify_prompt(instruction: Instruction) -> str:
    """Ask whether the grasp worked (images: head camera, then wrist camera)."""
    return (
        f"The robot has just tried to: {instruction.text}\n"
        "Image 1 is the head camera now, image 2 the wrist camera on the hand.\n"
        f"Is {instruction.target} held in the hand and lifted clear of the table?\n"
        'Reply with JSON only: {"reasoning": "<what you see>", "success": true or false}'
    )


def complete_prompt(prompt: str) -> str:
    """Ask whether the prompt is done (images: the table at the start, then now)."""
    return (
        f"User prompt: {prompt!r}\n"
        "Image 1 shows the table before the robot started, image 2 shows it now.\n"
        "Has the prompt been fully carried out, with nothing left that it asks for?\n"
        'Reply with JSON only: {"reasoning": "<what changed and what is left>", "complete": true or false}'
    )


def repair_prompt(error: str, wants_json: bool) -> str:
    """The follow-up when a reply was unusable: the validation error, verbatim, and the rule again."""
    form = "with only the JSON object asked for" if wants_json else "in the format asked for"
    return f"Your previous reply could not be used: {error}\nPlease answer again, {form}."


def _object_schema(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"reasoning": {"type": "string"}, **properties},
        "required": ["reasoning", *properties],
        "additionalProperties": False,
    }


def response_schemas() -> dict[str, dict[str, Any]]:
    """The JSON schema of each stage's answer, for servers that support `response_format`."""
    instruction = {
        "type": "object",
        "properties": {
            "skill": {"type": "string", "enum": list(CONTROLLED_SKILLS.names())},
            "target": {"type": "string"},
            "text": {"type": "string"},
        },
        "required": ["skill", "target", "text"],
        "additionalProperties": False,
    }
    number = {"type": "number"}
    return {
        "propose": _object_schema({"instructions": {"type": "array", "items": instruction}}),
        "ground": _object_schema({"box": {"type": "array", "items": number, "minItems": 4, "maxItems": 4}}),
        "verify": _object_schema({"success": {"type": "boolean"}}),
        "complete": _object_schema({"complete": {"type": "boolean"}}),
    }


def response_format(stage: str) -> dict[str, Any]:
    """The `response_format` argument asking for `stage`'s schema."""
    schema = response_schemas()[stage]
    return {
        "type": "json_schema",
        "json_schema": {"name": f"dexagent_{stage}", "schema": schema, "strict": True},
    }
