"""`toolwire check`: each code at its line and column, ignore comments, exit codes, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolwire.checker import SourceError, check_paths, check_source
from toolwire.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parents[3]


def positions(path: Path) -> list[tuple[int, int, str]]:
    return [(f.line, f.col, f.code) for f in check_source(path.read_bytes(), str(path))]


def test_construction_of_container_owned_classes_is_tw001() -> None:
    assert positions(FIXTURES / "constructs.py") == [
        (9, 16, "TW001"),   # ToolExecutor(...)
        (10, 18, "TW001"),  # ToolDispatcher(...)
        (11, 31, "TW001"),  # bridge.WebSocketBridge(...): the column of the class name
        (11, 75, "TW001"),  # Scope(...), an alias of RequestScope
    ]


def test_legacy_imports_are_tw002_and_legacy_calls_tw003() -> None:
    assert positions(FIXTURES / "legacy_use.py") == [
        (2, 8, "TW002"),    # import toolwire.legacy as old
        (3, 22, "TW002"),   # from toolwire import legacy
        (4, 29, "TW002"),   # ToolExecutorFactory
        (4, 50, "TW002"),   # UnifiedToolDispatcher as UTD: one finding per imported name
        (8, 19, "TW003"),   # UTD.create_for_user(...)
        (9, 15, "TW003"),   # ToolExecutorFactory()
        (9, 37, "TW003"),   # .create_executor(...)
        (10, 13, "TW003"),  # old.create_agent_websocket_bridge(...)
        (11, 37, "TW003"),  # legacy.ToolDispatcher.create_request_scoped_dispatcher(...)
    ]


def test_messages_name_the_class_and_the_replacement() -> None:
    path = FIXTURES / "constructs.py"
    first = check_source(path.read_bytes(), str(path))[0]
    assert first.render() == (
        f"{path}:9:16: TW001 ToolExecutor is built only by the container; use "
        "`async with container.request_scope(ctx) as scope:` and `scope.executor`"
    )
    call = check_source((FIXTURES / "legacy_use.py").read_bytes(), "x.py")[4]
    assert "UnifiedToolDispatcher.create_for_user" in call.message
    assert "docs/migration.md" in call.message


def test_ignore_comments_silence_only_the_named_codes_on_their_line() -> None:
    assert positions(FIXTURES / "ignored.py") == [
        (7, 9, "TW003"),   # ignore[TW001] does not silence TW003
        (10, 9, "TW003"),  # the ignore text inside a string is not a comment
    ]


def test_clean_code_has_no_findings() -> None:
    assert positions(FIXTURES / "clean.py") == []


def test_container_and_legacy_directories_may_do_what_they_do() -> None:
    assert check_paths([str(FIXTURES / "allowed")]).findings == []
    source = (FIXTURES / "allowed/toolwire/container/wiring.py").read_bytes()
    assert [f.code for f in check_source(source, "elsewhere/wiring.py")] == ["TW001"]


def test_columns_count_characters_not_bytes() -> None:
    source = 'label = "é"; d = ToolDispatcher()\n'.encode()
    assert [(f.line, f.col) for f in check_source(source, "m.py")] == [(1, 18)]


def test_syntax_errors_are_source_errors() -> None:
    with pytest.raises(SourceError, match="syntax error at line 2"):
        check_source(b"x = 1\ndef (\n", "broken.py")


def test_directories_are_walked_skipping_virtualenvs_and_vcs(tmp_path: Path) -> None:
    for folder in ("pkg", ".git", "venv", ".venv", "build", "env"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m.py").write_text("ToolExecutor()\n")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "pkg" / "notes.txt").write_text("ToolExecutor()\n")
    result = check_paths([str(tmp_path)])
    assert [Path(f.path).parent.name for f in result.findings] == ["pkg"]
    assert result.files == 1


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    return subprocess.run([sys.executable, "-m", "toolwire", "check", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=clean, check=False)


def test_our_own_source_passes() -> None:
    done = run_check("src")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_legacy_example_is_flagged_with_the_right_codes() -> None:
    done = run_check("examples/")
    assert done.returncode == 1, done.stderr
    codes: dict[str, int] = {}
    for line in done.stdout.splitlines():
        path, _, _, rest = line.split(":", 3)
        assert path == "examples/legacy_caller.py"
        code = rest.split()[0]
        codes[code] = codes.get(code, 0) + 1
    assert codes == {"TW002": 8, "TW003": 9}


def test_text_output_and_exit_code_1_with_findings() -> None:
    result = CliRunner().invoke(main, ["check", str(FIXTURES / "constructs.py")])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(f"{FIXTURES / 'constructs.py'}:9:16: TW001 ")
    assert len(result.output.splitlines()) == 4


def test_json_output_parses() -> None:
    result = CliRunner().invoke(main, ["check", "--format", "json", str(FIXTURES)])
    assert result.exit_code == 1
    findings = json.loads(result.output)
    assert {f["code"] for f in findings} == {"TW001", "TW002", "TW003"}
    first = findings[0]
    assert set(first) == {"path", "line", "col", "code", "message"}
    assert isinstance(first["line"], int) and isinstance(first["col"], int)


def test_a_clean_file_exits_0() -> None:
    result = CliRunner().invoke(main, ["check", str(FIXTURES / "clean.py")])
    assert (result.exit_code, result.output) == (0, "")


def test_unreadable_or_broken_files_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def (\n")
    missing = tmp_path / "missing.py"
    result = CliRunner().invoke(main, ["check", str(broken), str(missing)])
    assert result.exit_code == 2
    assert f"{broken}: error: syntax error at line 1" in result.stderr
    assert f"{missing}: error: cannot read: No such file or directory" in result.stderr
