"""`toolwire graph`: the container's providers, selections and overrides, in three formats."""

from __future__ import annotations

from pathlib import Path

from dependency_injector import providers

from tests.graph_support import API_PAGE, default_graph, documented_block
from toolwire.commands.graph import render
from toolwire.container import ApplicationContainer
from toolwire.container.introspection import describe
from toolwire.services.agents import EmbeddedAgent


def line_of(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(name + " "))


def test_the_default_graph_in_the_docs_is_current(tmp_path: Path) -> None:
    printed = default_graph(tmp_path, "--format", "mermaid")
    documented = documented_block(API_PAGE.read_text(encoding="utf-8"))
    assert documented == f"```mermaid\n{printed}```\n", (
        "docs/api.md's graph is stale: run `python -m tests.graph_support`")


def test_the_text_graph_shows_what_the_settings_select(tmp_path: Path) -> None:
    printed = default_graph(tmp_path, TOOLWIRE_EVENTS__BACKEND="redis",
                            TOOLWIRE_AGENT__BACKEND="openai", TOOLWIRE_AGENT__API_KEY="sk-x")
    assert "selects redis of memory, redis" in line_of(printed, "event_bus")
    assert "selects openai of embedded, openai" in line_of(printed, "agent")
    assert "selects off of off, otel" in line_of(printed, "tracing")
    assert line_of(printed, "executor").endswith("<- bridge, settings, tool_registry")
    assert "factory, per request" in line_of(printed, "request_scope")
    assert "singleton, app-wide" in line_of(printed, "run_supervisor")
    assert "OVERRIDDEN" not in printed


def test_otel_variables_select_tracing(tmp_path: Path) -> None:
    printed = default_graph(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
    assert "selects otel of off, otel" in line_of(printed, "tracing")


def test_an_override_in_place_is_marked_in_every_format() -> None:
    container = ApplicationContainer()
    with container.agent.override(providers.Factory(EmbeddedAgent)):
        infos = describe(container)
        text, mermaid, dot = (render(infos, kind) for kind in ("text", "mermaid", "dot"))
    assert "OVERRIDDEN by factory" in line_of(text, "agent")
    assert "OVERRIDDEN" not in line_of(text, "executor")
    assert "  class agent overridden" in mermaid.splitlines()
    assert "color=red" in next(line for line in dot.splitlines() if line.startswith("  agent "))
    assert "OVERRIDDEN" not in render(describe(container), "text")  # the override is undone


def test_every_provider_of_the_container_is_listed_with_its_dependencies_as_edges() -> None:
    container = ApplicationContainer()
    infos = describe(container)
    assert [info.name for info in infos] == list(container.providers)
    mermaid = render(infos, "mermaid")
    assert "  dispatcher --> request_scope" in mermaid.splitlines()
    assert "  tracing --> agent_runner" in mermaid.splitlines()
