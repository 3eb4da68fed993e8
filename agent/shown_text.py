"""Text from users, files and models, made safe to print: never markup, never terminal escapes.

A prompt such as "grasp the can [/x]" or a VLM reply with "[bold]" or an ANSI escape is
data. Rich would read the brackets as markup (and raise `MarkupError` on a stray closing
tag), and a terminal would obey the escape; these helpers show both literally.
"""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text

# C0 controls but tab and newline, DEL, and C1 controls (ESC starts ANSI sequences, CR rewrites lines).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(value: object) -> str:
    """`value` as a string whose control characters are written out (\\x1b), not sent to the terminal."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", str(value))


def shown(value: object) -> str:
    """`value` for an f-string that rich prints as markup: brackets escaped, control characters visible."""
    return escape(visible(value))


def plain(value: object, style: str = "") -> Text:
    """`value` as a rich `Text` (never parsed as markup), control characters visible."""
    return Text(visible(value), style=style)
