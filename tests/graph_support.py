"""The generated block of docs/api.md: the default graph as `toolwire graph` prints it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

API_PAGE = Path(__file__).parents[1] / "docs" / "api.md"
BEGIN = "<!-- graph:begin (generated: toolwire graph --format mermaid) -->\n"
END = "<!-- graph:end -->\n"


def default_graph(workdir: Path, *args: str, **variables: str) -> str:
    """Return what `toolwire graph` prints with no TOOLWIRE_/OTEL_ variables but `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOOLWIRE_", "OTEL_"))}
    env.update(variables)
    done = subprocess.run([sys.executable, "-m", "toolwire", "graph", *args], cwd=workdir,
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def documented_block(page: str) -> str:
    """Return what stands between the markers of `page`."""
    return page.split(BEGIN, 1)[1].split(END, 1)[0]


def with_block(page: str, mermaid: str) -> str:
    """Return `page` with `mermaid` as its generated block."""
    head, rest = page.split(BEGIN, 1)
    return f"{head}{BEGIN}```mermaid\n{mermaid}```\n{END}{rest.split(END, 1)[1]}"


if __name__ == "__main__":  # python -m tests.graph_support: regenerate the block
    text = API_PAGE.read_text(encoding="utf-8")
    API_PAGE.write_text(with_block(text, default_graph(Path.cwd() / "docs", "--format",
                                                       "mermaid")), encoding="utf-8")
