"""docs/models.md shows examples/weather_server.py as it is (tests/test_docs.py runs its blocks)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).parents[2]


def test_the_page_shows_the_example_server_as_it_is_in_the_repository() -> None:
    page = (REPO / "docs" / "models.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- file: weather_server.py -->\n```python\n(.*?)```", page, re.S)
    assert shown is not None
    example = (REPO / "examples" / "weather_server.py").read_text(encoding="utf-8")
    assert example.endswith(shown[1])
