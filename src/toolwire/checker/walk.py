"""Turn the PATH arguments of `toolwire check` into the Python files to check."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Final

SKIP_DIRS: Final[frozenset[str]] = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "build", "dist",
    "node_modules", "site-packages", ".eggs", ".mypy_cache", ".ruff_cache", ".pytest_cache",
})


def _skipped(parent: str, name: str) -> bool:
    return (name in SKIP_DIRS or name.endswith(".egg-info")
            or os.path.exists(os.path.join(parent, name, "pyvenv.cfg")))


def python_files(paths: Iterable[str]) -> Iterator[str]:
    """Yield each named file, and every `*.py` under each named directory, in sorted order.

    Version-control, virtual-environment, cache and build directories are skipped. A path
    that does not exist is yielded as is, so the caller reports it.
    """
    for path in paths:
        if not os.path.isdir(path):
            yield path
            continue
        for parent, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not _skipped(parent, d))
            for name in sorted(files):
                if name.endswith(".py"):
                    yield os.path.join(parent, name)
