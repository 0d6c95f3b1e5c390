"""Every code block in docs/ runs, as written, the way a reader would run it.

The convention, for everyone who writes in docs/ (the helpers are in tests/docs_blocks.py):

- ```python blocks are executed in order, all the blocks of one page in one namespace (a
  later block may use what an earlier one defined), in a subprocess whose working directory
  is an empty temporary directory. Top-level `await` works, as in `python -m asyncio`, but
  only a page that says so (its snippets are fragments of an `async def`) may use it: a
  reader who pastes a block into a file runs it as a script.
- ```console blocks run in a reader's project, one bash session per block: an empty temporary
  directory holding only the page's `file:` blocks (below), with toolwire installed from the
  clone and nothing else of it reachable. `$ command`
  lines are commands; the lines after one, up to the next `$ `, are its expected output,
  matched loosely: each line must appear, in order, among the lines the command printed
  (stdout and stderr), `…` matches any text and surrounding spaces do not count. A command
  must exit 0, unless its output ends with a line `[N]`: then it must exit N. A command that
  ends with `&` is started in the background, waited for until it prints a URL (`http://…`,
  as `toolwire serve` and aiohttp apps do when they listen) and stopped when the block ends.
  Where the machine allows it, the block runs in a network namespace of its own, so the
  docs' fixed ports never clash with anything else.
- ```bash and ```sh blocks run as one bash script in a reader's project and must exit 0.
- ```toml and ```json blocks must parse.
- ```text blocks are not run: transcripts, sample output, pictures made of characters.
- `<!-- file: NAME -->` on the line before a block: the block is written to NAME in the
  page's temporary directory instead of being run (so the page's python blocks can import
  it, and its commands run it); when a page writes `test_*.py` files, pytest runs them there
  and all must pass.
- `<!-- no-run: REASON -->` on the line before a block: not run. Only for commands that
  change the machine (installing packages) or need something from outside it (a model API);
  REASON says so, and what checks the block instead.

No TOOLWIRE_ variable of the person running the tests reaches a block.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.docs_blocks import (
    BLOCK_TIMEOUT_S,
    Block,
    blocks,
    clean_env,
    commands,
    missing_lines,
    pages,
    reader_project,
    run_console,
    run_python,
    write_files,
)

KINDS = {"python", "console", "bash", "sh", "toml", "json", "text", "mermaid"}
# mermaid: diagrams, not run; tests/e2e/test_graph_command.py keeps api.md's graph current
RUN_ELSEWHERE = {"testing.md"}  # its test files: tests/testing/test_docs.py, which also counts them
ALL = [block for page in pages() for block in blocks(page)]


def _select(*langs: str) -> list[Block]:
    return [b for b in ALL if b.lang in langs and b.file is None and b.no_run is None]


def _ids(items: list[Block]) -> list[str]:
    return [b.where for b in items]


def test_every_block_says_what_kind_it_is() -> None:
    unknown = [f"{b.where} ```{b.lang}" for b in ALL if b.lang not in KINDS]
    assert not unknown, f"give each block one of {sorted(KINDS)}: {unknown}"


def test_blocks_not_run_say_why() -> None:
    for block in ALL:
        if block.no_run is not None:
            assert len(block.no_run.split()) >= 3, f"{block.where}: say why it is not run"


@pytest.mark.parametrize("block", _select("python"), ids=_ids(_select("python")))
def test_python_blocks_run_as_scripts_unless_the_page_says_otherwise(block: Block) -> None:
    if "python -m asyncio" in block.page.read_text(encoding="utf-8"):
        return  # the page says its snippets are fragments of an `async def`
    try:
        compile(block.code, block.where, "exec")
    except SyntaxError as error:  # top-level `await`: a SyntaxError in a script
        pytest.fail(f"{block.where}: {error.msg}; put it in `async def main()` and "
                    "`asyncio.run(main())`")


@pytest.mark.parametrize("page", sorted({b.page for b in _select("python")}),
                         ids=lambda p: p.name)
def test_python_blocks_run(page: Path, tmp_path: Path) -> None:
    write_files(page, tmp_path)
    page_blocks = [b for b in _select("python") if b.page == page]
    done = run_python(page_blocks, tmp_path)
    assert done.returncode == 0, f"{page.name}: a python block failed:\n{done.stderr}"


def test_test_files_pass(tmp_path: Path) -> None:
    assert (Path(__file__).parent / "testing" / "test_docs.py").is_file()  # RUN_ELSEWHERE
    for page in pages():
        if page.name in RUN_ELSEWHERE or not any(
                (b.file or "").startswith("test_") for b in blocks(page)):
            continue
        project = tmp_path / page.stem
        project.mkdir()
        write_files(page, project)
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
            capture_output=True, text=True, env=clean_env(PYTHONPATH=str(project)),
            timeout=BLOCK_TIMEOUT_S, check=False)
        assert done.returncode == 0, f"{page.name}: its test files fail:\n{done.stdout}"


@pytest.mark.parametrize("block", _select("console"), ids=_ids(_select("console")))
def test_console_blocks_print_what_they_show(block: Block, tmp_path: Path) -> None:
    assert commands(block), f"{block.where}: a console block needs `$ ` commands"
    for cmd, output, code in run_console(block, tmp_path):
        if not cmd.background:
            assert code == cmd.exit_code, (
                f"{block.where}: `{cmd.text}` exited {code}, expected {cmd.exit_code}:\n{output}")
        missing = missing_lines(cmd.expected, output)
        assert not missing, (
            f"{block.where}: `{cmd.text}` did not print {missing[0]!r}; it printed:\n{output}")


@pytest.mark.parametrize("block", _select("bash", "sh"), ids=_ids(_select("bash", "sh")))
def test_shell_blocks_succeed(block: Block, tmp_path: Path) -> None:
    project = reader_project(block.page, tmp_path)
    done = subprocess.run(["bash", "-c", block.code], cwd=project,
                          capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S,
                          env=clean_env(HOME=str(tmp_path), PYTHONPATH=str(project)), check=False)
    assert done.returncode == 0, f"{block.where} failed:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("block", _select("toml", "json"), ids=_ids(_select("toml", "json")))
def test_data_blocks_parse(block: Block) -> None:
    if block.lang == "toml":
        tomllib.loads(block.code)
    else:
        json.loads(block.code)




def test_commands_run_in_a_directory_holding_only_the_page_files(tmp_path: Path) -> None:
    page = next(p for p in pages() if p.name == "embedding.md")
    probe = Block(page, 1, "console", "$ ls -A; pwd\n")
    [(_, output, code)] = run_console(probe, tmp_path)
    shown = output.split()
    files = sorted(b.file for b in blocks(page) if b.file is not None)
    assert code == 0 and files and shown[:-1] == files
    assert not shown[-1].startswith(str(Path(__file__).parents[1]))  # not in the clone
