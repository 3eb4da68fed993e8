"""The planner options' choices and defaults, in a module without pydantic or numpy: the CLI's
--help shows them and must start fast."""

from __future__ import annotations

from typing import Literal, get_args

# How a model writes a box (boxes.py converts each to image pixels).
BoxFormat = Literal["qwen2.5-vl", "qwen3-vl", "glm-v", "qwen-vl-chat"]
BOX_FORMATS: tuple[str, ...] = get_args(BoxFormat)

# Interactive defaults: a server that stopped answering costs at most ~30 s x 3 tries, not minutes.
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 2
