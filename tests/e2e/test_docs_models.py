"""docs/models.md runs as written: its files are written, its console blocks run in a shell.

Convention of this page: a `python` block preceded by `<!-- file: NAME -->` is a file the
reader saves; a `console` block is run line by line in bash (`$ ` lines are commands, the
other lines are expected output, matched loosely: `…` stands for anything); `text` blocks
are illustrations and are not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).parents[2] / "docs" / "models.md"
FILE_BLOCK = re.compile(r"<!-- file: (?P<name>[\w./]+) -->\n```python\n(?P<code>.*?)```", re.S)
CONSOLE_BLOCK = re.compile(r"```console\n(?P<body>.*?)```", re.S)


def console_blocks() -> list[str]:
    return [m["body"] for m in CONSOLE_BLOCK.finditer(DOC.read_text(encoding="utf-8"))]


@pytest.fixture
def reader_dir(tmp_path: Path) -> Path:
    """A directory with the page's files and a `toolwire` command on PATH (this checkout's)."""
    for match in FILE_BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        (tmp_path / match["name"]).write_text(match["code"], encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "toolwire"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m toolwire "$@"\n')
    launcher.chmod(0o755)
    return tmp_path


def test_the_page_has_console_blocks_and_a_server_file() -> None:
    assert len(console_blocks()) >= 4
    assert FILE_BLOCK.search(DOC.read_text(encoding="utf-8"))


@pytest.mark.parametrize("index", range(len(console_blocks())))
def test_each_console_block_runs_and_prints_what_it_shows(reader_dir: Path, index: int) -> None:
    lines = console_blocks()[index].splitlines()
    commands = [line[2:] for line in lines if line.startswith("$ ")]
    expected = [line for line in lines if line.strip() and not line.startswith("$ ")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    env["PATH"] = f"{reader_dir / 'bin'}{os.pathsep}{env['PATH']}"
    done = subprocess.run(["bash", "-e", "-c", "\n".join(commands)], cwd=reader_dir, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    position = 0
    for line in expected:
        for fragment in filter(None, (part.strip() for part in line.split("…"))):
            found = done.stdout.find(fragment, position)
            assert found >= 0, f"{fragment!r} not in the output:\n{done.stdout}"
            position = found + len(fragment)
