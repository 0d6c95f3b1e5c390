"""`Site`: a directory on `sys.path` where a test writes throw-away tool packages and
installed-looking distributions (for `tools.modules` and the `toolwire.tools` entry points)."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolwire.adapters.tool_loading import ENTRY_POINT_GROUP


class Site:
    """Packages and dist-infos under `root`, their names unique to this site (`prefix`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.prefix = f"twt{uuid.uuid4().hex[:8]}"

    def module(self, name: str, source: str) -> str:
        """Write module `name` of package `<prefix>_pkg`; return its dotted name.

        `{prefix}` in `source` becomes the site's prefix.
        """
        package = self.root / f"{self.prefix}_pkg"
        package.mkdir(exist_ok=True)
        (package / "__init__.py").touch()
        text = textwrap.dedent(source).replace("{prefix}", self.prefix)
        (package / f"{name}.py").write_text(text)
        return f"{self.prefix}_pkg.{name}"

    def dist(self, name: str, **entry_points: str) -> None:
        """Write an installed-looking distribution with `toolwire.tools` entry points."""
        info = self.root / f"{self.prefix}_{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {self.prefix}-{name}\nVersion: 1.0\n")
        lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{k} = {v}" for k, v in entry_points.items())]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def site_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """Yield a fresh `Site` on `sys.path`; forget the modules imported from it afterwards."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    made = Site(root)
    yield made
    for name in [n for n in sys.modules if n.startswith(made.prefix)]:
        del sys.modules[name]
