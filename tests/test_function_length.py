"""No product function runs past ~70 lines of body unless its docstring says why (issue 36).

A function that does two jobs hides the seam between them; the bar keeps the seams visible. A
function may stay longer when its docstring has a line starting "Long because" giving the reason.
Tests and benchmarks are not product code and are not checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_FOLDERS = ["agent", "skills", "trees", "controller", "hardware", "cli"]
MAX_BODY_LINES = 70
REASON_PREFIX = "Long because"

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def body_lines(function: FunctionNode) -> int:
    """Source lines from the first statement after the docstring to the function's end.

    The signature (a Typer command's options) and the docstring do not count; blank lines and
    comments inside the body do."""
    body = function.body
    first = body[1] if ast.get_docstring(function) is not None and len(body) > 1 else body[0]
    assert function.end_lineno is not None
    return function.end_lineno - first.lineno + 1


def has_reason(function: FunctionNode) -> bool:
    docstring = ast.get_docstring(function) or ""
    return any(line.strip().startswith(REASON_PREFIX) for line in docstring.splitlines())


def long_functions(source: str, limit: int = MAX_BODY_LINES) -> list[tuple[str, int, int]]:
    """(name, line, body lines) of each function in `source` longer than `limit` without a reason."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = body_lines(node)
            if lines > limit and not has_reason(node):
                found.append((node.name, node.lineno, lines))
    return found


def test_no_product_function_is_long_without_a_reason() -> None:
    offenders = []
    for folder in PRODUCT_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name, line, lines in long_functions(path.read_text()):
                offenders.append(f"{path.relative_to(ROOT)}:{line} {name}: {lines} lines")
    assert not offenders, (
        f"functions over {MAX_BODY_LINES} lines of body: split them by what they do, or give the "
        f'reason in a docstring line starting "{REASON_PREFIX}":\n' + "\n".join(offenders)
    )


def _function_of(lines: int, docstring: str | None = None) -> str:
    doc = f'    """{docstring}"""\n' if docstring is not None else ""
    return "def f():\n" + doc + "    x = 1\n" * lines


def test_the_body_is_counted_without_the_signature_and_docstring() -> None:
    assert long_functions(_function_of(70, "One line.\n\n    More.\n    ")) == []
    assert long_functions(_function_of(71, "One line.")) == [("f", 1, 71)]
    assert long_functions(_function_of(71)) == [("f", 1, 71)]


def test_a_reason_in_the_docstring_lets_a_function_stay_long() -> None:
    reason = "A table of cases.\n\n    Long because: one branch per format, in the spec's order.\n    "
    assert long_functions(_function_of(90, reason)) == []
    # The words alone, not at the start of a line, are no reason.
    assert long_functions(_function_of(90, "Not Long because of anything.")) == [("f", 1, 90)]
