"""Tools come from the built-ins, `tools.modules` and the `toolwire.tools` entry points."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tool_site import Site, site_on_path
from toolwire.adapters.tool_loading import load_registry, tools_in_module
from toolwire.config import Settings, ToolsSettings
from toolwire.services.errors import ToolConflictError, ToolLoadError
from toolwire.services.tools.builtin import echo

TOOLS_SOURCE = """
    from typing import Annotated
    from pydantic import Field
    from toolwire import tool
    from toolwire.services.tools.builtin import echo as reexported_builtin

    @tool(name="{prefix}_greet", description="Greet someone.")
    def greet(name: Annotated[str, Field(description="Who")]) -> str:
        return "hello " + name

    @tool(name="{prefix}_add")
    async def add(a: int, b: int = 1) -> int:
        return a + b

    not_a_tool = 42
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """A fresh `Site`; the modules imported from it are forgotten afterwards."""
    yield from site_on_path(tmp_path, monkeypatch)


def tools(**settings: Any) -> ToolsSettings:
    return ToolsSettings(**settings)


def test_builtins_only_by_default() -> None:
    assert load_registry(tools()).names() == ["calculator", "clock", "echo"]
    assert load_registry(tools(sleep_enabled=True)).names() == [
        "calculator", "clock", "echo", "sleep",
    ]


def test_enabled_and_disabled_choose_the_builtins() -> None:
    assert load_registry(tools(enabled=["echo", "clock"])).names() == ["clock", "echo"]
    assert load_registry(tools(disabled=["calculator"])).names() == ["clock", "echo"]
    assert load_registry(tools(enabled=["echo", "sleep"])).names() == ["echo"]
    assert load_registry(tools(enabled=["sleep"], sleep_enabled=True)).names() == ["sleep"]


@pytest.mark.parametrize("setting", ["enabled", "disabled"])
def test_unknown_names_in_enabled_or_disabled_stop_loading(setting: str) -> None:
    with pytest.raises(ToolLoadError) as caught:
        load_registry(tools(**{setting: ["echo", "ecoh"]}))
    message = str(caught.value)
    assert f"TOOLWIRE_TOOLS__{setting.upper()}" in message
    assert "'ecoh'" in message
    assert "calculator, clock, echo, sleep" in message


def test_tools_in_a_module_are_found_at_its_top_level(site: Site) -> None:
    import importlib

    module = importlib.import_module(site.module("tools", TOOLS_SOURCE))
    names = sorted(spec.name for spec in tools_in_module(module))
    assert names == sorted([f"{site.prefix}_greet", f"{site.prefix}_add", "echo"])


def test_modules_setting_adds_their_tools_with_schemas(site: Site) -> None:
    module = site.module("tools", TOOLS_SOURCE)
    registry = load_registry(tools(modules=[module]))
    greet = registry.get(f"{site.prefix}_greet")
    assert greet is not None
    assert greet.origin == f"{module}.greet"
    assert greet.json_schema()["properties"]["name"]["description"] == "Who"
    assert f"{site.prefix}_add" in registry
    assert registry.get("echo") is echo  # the re-exported built-in is not a conflict


@pytest.mark.parametrize("form", ["{a},{b}", " {a} , {b} ", '["{a}", "{b}"]'])
def test_the_environment_variable_takes_a_comma_list_or_json(
    site: Site, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    first = site.module("one", TOOLS_SOURCE)
    second = site.module("two", '''
        from toolwire import tool

        @tool(name="{prefix}_two")
        def two() -> int:
            return 2
    ''')
    monkeypatch.setenv("TOOLWIRE_TOOLS__MODULES", form.format(a=first, b=second))
    settings = Settings(env="test")
    assert settings.tools.modules == [first, second]
    names = load_registry(settings.tools).names()
    assert {f"{site.prefix}_greet", f"{site.prefix}_two"} <= set(names)


def test_a_module_that_fails_to_import_stops_loading_naming_it_and_the_error(site: Site) -> None:
    broken = site.module("broken", "import {prefix}_no_such_dependency\n")
    with pytest.raises(ToolLoadError) as caught:
        load_registry(tools(modules=[broken]))
    message = str(caught.value)
    assert repr(broken) in message
    assert "TOOLWIRE_TOOLS__MODULES" in message
    assert f"ModuleNotFoundError: No module named '{site.prefix}_no_such_dependency'" in message


def test_a_module_that_raises_while_importing_is_reported_too(site: Site) -> None:
    broken = site.module("raises", "raise RuntimeError('misconfigured')\n")
    with pytest.raises(ToolLoadError, match=r"RuntimeError: misconfigured"):
        load_registry(tools(modules=[broken]))


def test_a_missing_module_is_reported() -> None:
    with pytest.raises(ToolLoadError, match=r"'no_such_module_for_toolwire'"):
        load_registry(tools(modules=["no_such_module_for_toolwire"]))


def test_a_module_without_tools_is_an_error(site: Site) -> None:
    empty = site.module("empty", "VALUE = 1\n")
    with pytest.raises(ToolLoadError, match="has no @tool functions"):
        load_registry(tools(modules=[empty]))


def test_a_custom_tool_named_like_a_builtin_conflicts_naming_both_origins(site: Site) -> None:
    module = site.module("clash", '''
        from toolwire import tool

        @tool(name="echo")
        def my_echo(text: str) -> str:
            return text * 2
    ''')
    with pytest.raises(ToolConflictError) as caught:
        load_registry(tools(modules=[module]))
    message = str(caught.value)
    assert echo.origin in message
    assert f"{module}.my_echo" in message


def test_a_disabled_builtin_can_be_replaced_by_a_custom_tool(site: Site) -> None:
    module = site.module("clash", '''
        from toolwire import tool

        @tool(name="echo")
        def my_echo(text: str) -> str:
            return text * 2
    ''')
    replaced = load_registry(tools(modules=[module], disabled=["echo"])).get("echo")
    assert replaced is not None
    assert replaced.origin == f"{module}.my_echo"


def test_two_custom_modules_with_one_name_conflict(site: Site) -> None:
    source = '''
        from toolwire import tool

        @tool(name="{prefix}_same")
        def same() -> int:
            return 1
    '''
    first, second = site.module("first", source), site.module("second", source)
    with pytest.raises(ToolConflictError) as caught:
        load_registry(tools(modules=[first, second]))
    assert f"{first}.same" in str(caught.value)
    assert f"{second}.same" in str(caught.value)


def test_entry_points_add_tools_from_a_module(site: Site) -> None:
    module = site.module("tools", TOOLS_SOURCE)
    site.dist("plugin", greetings=module)
    registry = load_registry(tools())
    greet = registry.get(f"{site.prefix}_greet")
    assert greet is not None
    assert greet.origin.startswith(f"{module}.greet via entry point 'greetings'")
    assert f"distribution '{site.prefix}-plugin'" in greet.origin


def test_entry_points_may_name_one_tool_or_a_list(site: Site) -> None:
    module = site.module("tools", TOOLS_SOURCE + "    BUNDLE = [greet, add]\n")
    site.dist("single", one=f"{module}:greet")
    site.dist("bundle", many=f"{module}:BUNDLE")
    names = load_registry(tools()).names()
    assert {f"{site.prefix}_greet", f"{site.prefix}_add"} <= set(names)


def test_a_tool_from_both_a_module_and_an_entry_point_is_registered_once(site: Site) -> None:
    module = site.module("tools", TOOLS_SOURCE)
    site.dist("plugin", greetings=module)
    names = load_registry(tools(modules=[module])).names()
    assert names.count(f"{site.prefix}_greet") == 1


def test_an_entry_point_that_fails_to_import_names_the_module(site: Site) -> None:
    broken = site.module("broken", "raise ImportError('needs libfoo')\n")
    site.dist("plugin", broken=f"{broken}:tools")
    with pytest.raises(ToolLoadError) as caught:
        load_registry(tools())
    message = str(caught.value)
    assert f"cannot load entry point 'broken' = '{broken}:tools'" in message
    assert "ImportError: needs libfoo" in message


def test_an_entry_point_naming_something_else_is_an_error(site: Site) -> None:
    module = site.module("tools", TOOLS_SOURCE)
    site.dist("plugin", wrong=f"{module}:not_a_tool")
    with pytest.raises(ToolLoadError, match="names int, not a @tool"):
        load_registry(tools())


def test_an_entry_point_conflicting_with_a_builtin_names_the_entry_point(site: Site) -> None:
    module = site.module("clash", '''
        from toolwire import tool

        @tool(name="calculator")
        def calculator(expression: str) -> str:
            return expression
    ''')
    site.dist("plugin", calc=module)
    with pytest.raises(ToolConflictError) as caught:
        load_registry(tools())
    message = str(caught.value)
    assert "toolwire.services.tools.builtin.calculator.calculator" in message
    assert f"{module}.calculator via entry point 'calc'" in message
