"""README and docs stand alone: the README's first commands, links that stay in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)")
OUTSIDE_CITATION = re.compile("DESIGN" + r"(\.md)?\s*§|\.\./" + "shared|" + "DESIGN" + r"\.md")


def slug(heading: str) -> str:
    """Return the anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Return the anchors of the headings of `page`."""
    lines = page.read_text(encoding="utf-8").splitlines()
    return {slug(line.lstrip("#")) for line in lines if re.match(r"#{1,6} ", line)}


def test_the_readme_starts_with_two_commands_that_do_not_block() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.match(r"# toolwire\n\n```bash\n(.*?)```", text, re.S)
    assert first is not None, "the README opens with its commands"
    install, test = first[1].splitlines()
    assert install.startswith("pip install -e '.[dev]' && ")
    assert install.endswith("{ toolwire serve & }")  # serving in the background: pytest runs
    assert test == "pytest"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_stay_inside_the_repository_and_resolve(page: Path) -> None:
    for match in LINK.finditer(page.read_text(encoding="utf-8")):
        target = match["target"]
        if re.match(r"[a-z]+://", target):
            continue  # the web, not a file
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.is_relative_to(ROOT), f"{page.name} links outside the repository: {target}"
        assert resolved.exists(), f"{page.name} links to a missing file: {target}"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: no heading for {target}"


def test_nothing_cites_a_file_outside_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    citing = [name for name in tracked
              if name.endswith((".py", ".md", ".toml", ".cfg", ".txt")) or name.startswith(".ci/")
              if OUTSIDE_CITATION.search((ROOT / name).read_text(encoding="utf-8"))]
    assert not citing, f"these cite a file outside the repository (point at docs/): {citing}"
