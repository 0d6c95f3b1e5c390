"""The public API is `toolwire.__all__`, and docs/api.md lists exactly those names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import toolwire

API_DOC = Path(__file__).parents[2] / "docs" / "api.md"
START, END = "<!-- public-api:start -->", "<!-- public-api:end -->"


def documented_names() -> list[str]:
    """Return the names in the delimited list of docs/api.md, in order."""
    text = API_DOC.read_text(encoding="utf-8")
    assert text.count(START) == 1, f"docs/api.md needs exactly one {START} marker"
    assert text.count(END) == 1, f"docs/api.md needs exactly one {END} marker"
    block = text.split(START, 1)[1].split(END, 1)[0]
    names = []
    for line in block.strip().splitlines():
        match = re.fullmatch(r"- `(\w+)` — \S.*", line.strip())
        assert match, f"docs/api.md list line is not '- `name` — description': {line!r}"
        names.append(match[1])
    return names


def test_docs_list_exactly_the_exported_names() -> None:
    documented = documented_names()
    assert len(documented) == len(set(documented)), "docs/api.md lists a name twice"
    missing_from_docs = sorted(set(toolwire.__all__) - set(documented))
    not_exported = sorted(set(documented) - set(toolwire.__all__))
    assert not missing_from_docs, f"exported but not in docs/api.md: {missing_from_docs}"
    assert not not_exported, f"in docs/api.md but not in toolwire.__all__: {not_exported}"


def test_every_documented_name_has_a_section_or_table_mention() -> None:
    body = API_DOC.read_text(encoding="utf-8").split(END, 1)[1]
    headings = "\n".join(line for line in body.splitlines() if line.startswith("#"))
    undocumented = [
        name for name in toolwire.__all__ if name != "__version__" and f"`{name}" not in headings
    ]
    assert not undocumented, f"no section in docs/api.md for {undocumented}"


def test_all_names_exist_and_are_unique() -> None:
    assert len(toolwire.__all__) == len(set(toolwire.__all__))
    for name in toolwire.__all__:
        assert hasattr(toolwire, name), name


def test_the_minimum_the_design_promises_is_exported() -> None:
    required = {
        "ApplicationContainer", "Settings", "UserExecutionContext", "tool", "create_app",
        "RunEvent", "AgentStarted", "AgentThinking", "ToolExecuting", "ToolCompleted",
        "AgentCompleted", "ErrorInfo",
    }
    assert required <= set(toolwire.__all__)


def test_exports_are_the_real_objects() -> None:
    from toolwire.container import ApplicationContainer, create_app
    from toolwire.services.events import RunEvent
    from toolwire.services.tools.spec import tool

    assert toolwire.ApplicationContainer is ApplicationContainer
    assert toolwire.create_app is create_app
    assert toolwire.RunEvent is RunEvent
    assert toolwire.tool is tool
    assert isinstance(toolwire.__version__, str)
    assert toolwire.__version__


def test_the_package_is_typed() -> None:
    assert (Path(toolwire.__file__).parent / "py.typed").is_file()


def test_star_import_gives_exactly_all() -> None:
    code = (
        "from toolwire import *\n"
        "import toolwire\n"
        "missing = [n for n in toolwire.__all__ if n not in globals()]\n"
        "assert not missing, missing\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
