"""The examples of docs/testing.md run, as written, in a fresh project."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).parents[2] / "docs" / "testing.md"
FILE_BLOCK = re.compile(r"<!-- file: (?P<name>[\w./]+) -->\n```python\n(?P<code>.*?)```", re.S)


def doc_files() -> dict[str, str]:
    """Return the files docs/testing.md shows, by name."""
    return {m["name"]: m["code"] for m in FILE_BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


def test_the_doc_shows_a_ten_line_test_and_the_worked_example() -> None:
    files = doc_files()
    assert set(files) == {"test_quickstart.py", "shop_tools.py", "test_shop.py"}
    assert len([line for line in files["test_quickstart.py"].splitlines() if line.strip()]) <= 10


def test_the_doc_examples_pass_in_a_project_without_configuration(
    pytester: pytest.Pytester,
) -> None:
    for name, code in doc_files().items():
        pytester.path.joinpath(name).write_text(code, encoding="utf-8")
    # A subprocess, like a user's own `pytest`: nothing of this suite's configuration applies.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
