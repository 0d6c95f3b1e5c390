"""Find the code blocks of a Markdown page and run them the way tests/test_docs.py describes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).parents[1]
DOCS = REPO / "docs"
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)\s*$")
MARKER = re.compile(r"^\s*<!-- (?P<kind>file|no-run): (?P<value>.+?) -->\s*$")
EXIT_LINE = re.compile(r"^\[(?P<code>\d+)\]$")
READY_S = 30.0
BLOCK_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    file: str | None = None  # <!-- file: NAME -->
    no_run: str | None = None  # <!-- no-run: REASON -->

    @property
    def where(self) -> str:
        """Return `docs/page.md:line`, for test ids and failure messages."""
        return f"{self.page.relative_to(REPO)}:{self.line}"


def pages() -> list[Path]:
    """Return every Markdown page of docs/."""
    return sorted(DOCS.glob("*.md"))


def blocks(page: Path) -> list[Block]:
    """Return the fenced code blocks of `page`, each with the marker on the line before it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = len(opening["indent"])
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        code = textwrap.dedent("\n".join(line[indent:] for line in lines[index + 1:end])) + "\n"
        marker = MARKER.match(lines[index - 1]) if index > 0 else None
        found.append(Block(
            page, index + 1, opening["lang"], code,
            file=marker["value"] if marker and marker["kind"] == "file" else None,
            no_run=marker["value"] if marker and marker["kind"] == "no-run" else None,
        ))
        index = end + 1
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """Return this process's environment without TOOLWIRE_ variables, `src/` importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    paths = [str(REPO / "src"), *filter(None, [extra.pop("PYTHONPATH", "")])]
    env.update(PYTHONPATH=os.pathsep.join(paths), PYTHONUNBUFFERED="1", **extra)
    return env


# -- python blocks -------------------------------------------------------------------------

_RUNNER = """
import ast, asyncio, inspect, json, sys
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
namespace = {"__name__": "__main__"}
loop = asyncio.new_event_loop()
for block in blocks:
    source = "\\n" * block["line"] + block["code"]
    code = compile(source, block["page"], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if code.co_flags & inspect.CO_COROUTINE:
        loop.run_until_complete(eval(code, namespace))
    else:
        exec(code, namespace)
loop.close()
"""


def run_python(page_blocks: list[Block], project: Path) -> subprocess.CompletedProcess[str]:
    """Execute the python blocks in order, in one namespace, in a subprocess in `project`."""
    spec = project / "blocks.json"
    spec.write_text(json.dumps([
        {"page": str(b.page.relative_to(REPO)), "line": b.line, "code": b.code}
        for b in page_blocks]), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-c", _RUNNER, str(spec)], cwd=project, capture_output=True, text=True,
        timeout=BLOCK_TIMEOUT_S, env=clean_env(PYTHONPATH=str(project)), check=False)


# -- console blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One `$ command` of a console block and what it is expected to print and exit with."""

    text: str
    expected: list[str]
    exit_code: int

    @property
    def background(self) -> bool:
        """Return True for `command &`: started, and stopped when the block ends."""
        return self.text.rstrip().endswith("&") and not self.text.rstrip().endswith("&&")


def commands(block: Block) -> list[Command]:
    """Split a console block into its commands and their expected output."""
    parsed: list[Command] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            parsed.append(Command(line[2:], [], 0))
        elif parsed and (code := EXIT_LINE.match(line.strip())):
            parsed[-1] = Command(parsed[-1].text, parsed[-1].expected, int(code["code"]))
        elif parsed and line.strip():
            parsed[-1].expected.append(line.strip())
        elif line.strip():
            raise AssertionError(f"{block.where}: output before the first `$ ` command")
    return parsed


def _script(cmds: list[Command], outdir: Path) -> str:
    """Return a bash script running `cmds` in one shell session, outputs into `outdir`."""
    lines = ["set +e", "groups=()",
             'trap \'for g in "${groups[@]}"; do kill -- "-$g" 2>/dev/null; done\' EXIT']
    for index, cmd in enumerate(cmds):
        out = outdir / f"{index}.out"
        if cmd.background:
            body = cmd.text.rstrip().removesuffix("&")
            lines += [
                f"setsid bash -c {_quote(body)} >{out} 2>&1 </dev/null &",
                "groups+=($!)",
                f"for _ in $(seq {int(READY_S * 10)}); do "
                f"grep -q 'http://' {out} && break; sleep 0.1; done",
            ]
        else:
            lines += [f"eval {_quote(cmd.text)} >{out} 2>&1 </dev/null",
                      f"echo $? >{outdir / f'{index}.rc'}"]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@cache
def isolated_network() -> bool:
    """Return True when commands can run in a network namespace of their own (needs root)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "--net", "ip", "link", "set", "lo", "up"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def write_files(page: Path, project: Path) -> None:
    """Write the page's `<!-- file: NAME -->` blocks into `project`."""
    for block in blocks(page):
        if block.file is not None:
            target = project / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")


def reader_project(page: Path, root: Path) -> Path:
    """Return a new directory under `root` holding only the page's files, as a reader's would."""
    project = root / "project"
    project.mkdir()
    write_files(page, project)
    return project


def run_console(block: Block, workdir: Path) -> list[tuple[Command, str, int | None]]:
    """Run a console block in a reader's project; return each command, output and exit code.

    The project is an empty directory under `workdir` holding only the page's files: nothing
    of the clone is there but the installed package. Servers the block starts bind only
    inside a private network namespace when one can be made, so the fixed ports of the docs
    never clash with anything else on the machine.
    """
    cmds = commands(block)
    project = reader_project(block.page, workdir)
    script = workdir / "block.sh"
    script.write_text(_script(cmds, workdir), encoding="utf-8")
    argv = ["bash", str(script)]
    if isolated_network():
        argv = ["unshare", "--net", "bash", "-c", 'ip link set lo up && exec bash "$0"',
                str(script)]
    subprocess.run(argv, cwd=project, env=clean_env(HOME=str(workdir), PYTHONPATH=str(project)),
                   timeout=BLOCK_TIMEOUT_S, capture_output=True, check=False)
    results = []
    for index, cmd in enumerate(cmds):
        out = workdir / f"{index}.out"
        rc = workdir / f"{index}.rc"
        output = out.read_text(encoding="utf-8", errors="replace") if out.exists() else ""
        code = int(rc.read_text()) if rc.exists() else None
        results.append((cmd, output, code))
    return results


def missing_lines(expected: list[str], output: str) -> list[str]:
    """Return the expected lines not found, in order, among the output's lines (`…` = any)."""
    actual = [line.strip() for line in output.splitlines()]
    position = 0
    for index, want in enumerate(expected):
        pattern = re.compile(".*".join(re.escape(part) for part in want.split("…")))
        while position < len(actual) and not pattern.fullmatch(actual[position]):
            position += 1
        if position == len(actual):
            return expected[index:]
        position += 1
    return []
