"""Release metadata: one version, a changelog entry for it, license, typing marker, URLs.

Building, twine-checking and installing the wheel in a clean venv is `.ci/check-wheel`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from click.testing import CliRunner

import toolwire
from toolwire.cli import main

ROOT = Path(__file__).parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_is_written_in_one_place() -> None:
    assert "version" not in PROJECT["project"]
    assert "version" in PROJECT["project"]["dynamic"]
    source = PROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert source == "toolwire._version.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", toolwire.__version__)


def test_toolwire_version_prints_it() -> None:
    shown = CliRunner().invoke(main, ["--version"])
    assert shown.exit_code == 0
    assert shown.stdout == f"toolwire {toolwire.__version__}\n"


def test_the_changelog_has_an_entry_for_this_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(toolwire.__version__)} ", changelog, re.M)


def test_the_license_file_ships_and_matches_the_metadata() -> None:
    assert PROJECT["project"]["license"] == "MIT"
    assert PROJECT["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_typing_marker_classifiers_and_urls_are_declared() -> None:
    assert "py.typed" in PROJECT["tool"]["setuptools"]["package-data"]["toolwire"]
    assert "Typing :: Typed" in PROJECT["project"]["classifiers"]
    assert {"Homepage", "Documentation", "Changelog", "Issues"} <= set(PROJECT["project"]["urls"])


def test_the_ci_runs_the_wheel_check() -> None:
    assert "bash .ci/check-wheel" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_dev_install_leaves_the_benchmark_stack_to_its_own_extra() -> None:
    extras = PROJECT["project"]["optional-dependencies"]
    names = {re.split(r"[<>=\[ ]", requirement)[0] for requirement in extras["dev"]}
    assert "toolwire" not in names  # no `toolwire[bench]` pulled in through the back door
    assert not names & {"dishka", "wireup", "python-socketio", "matplotlib", "py-spy"}
    assert {"dishka", "wireup", "python-socketio", "matplotlib", "py-spy"} <= {
        re.split(r"[<>=\[ ]", requirement)[0] for requirement in extras["bench"]}
    assert "-e '.[dev,bench]'" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
