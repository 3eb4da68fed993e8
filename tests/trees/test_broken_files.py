"""Every file in broken/ fails to load with the error its first line announces: type, line, field, text.

A first line reads `# expect: ErrorType [in FILE] line N [field 'f']: message` (FILE when
the error is reported in an included file), so adding a case is adding a file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dexagent.trees import errors
from dexagent.trees.loader import load_tree

BROKEN = Path(__file__).parent / "broken"
EXPECT = re.compile(
    r"^# expect: (?P<kind>\w+)(?: in (?P<file>\S+))? line (?P<line>\d+)"
    r"(?: field '(?P<field>[^']*)')?: (?P<message>.+)$"
)
FILES = sorted(BROKEN.glob("*.yaml"))


def expectation(path: Path) -> re.Match[str]:
    first = path.read_text().splitlines()[0]
    match = EXPECT.match(first)
    assert match, (
        f"{path.name}: first line must be '# expect: ErrorType [in FILE] line N [field 'f']: message'"
    )
    return match


def test_the_corpus_is_large_enough() -> None:
    assert len(FILES) >= 12


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_broken_file_gives_its_precise_error(path: Path) -> None:
    expected = expectation(path)
    with pytest.raises(errors.TreeError) as caught:
        load_tree(path)
    error = caught.value
    assert type(error).__name__ == expected["kind"], str(error)
    assert error.path is not None and Path(error.path).name == (expected["file"] or path.name), str(error)
    assert error.line == int(expected["line"]), str(error)
    assert error.field == (expected["field"] or ""), str(error)
    assert expected["message"] in error.message, str(error)
    # The rendered message is what a user sees: "file:line: field 'f': message".
    prefix = f"{error.path}:{error.line}: " + (f"field {error.field!r}: " if error.field else "")
    assert str(error).startswith(prefix)


def test_loading_a_python_tag_runs_nothing(tmp_path: Path) -> None:
    marker = Path("/tmp/dexagent-pwned")
    marker.unlink(missing_ok=True)
    with pytest.raises(errors.TreeSyntaxError):
        load_tree(BROKEN / "python_tag.yaml")
    assert not marker.exists()
