"""Runs traced through the container: GenAI spans, read from the SDK's in-memory exporter."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from dependency_injector import providers
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tests.fixtures_models import (
    McpHttpServer,
    ScriptedModel,
    StartModel,
    answer,
    answer_from_tools,
    slow,
    tool_calls,
)
from tests.support import run_in_scope
from tests.tracing_support import children, memory_tracing, spans_of
from toolwire.adapters.metrics import Metrics
from toolwire.adapters.tracing.otel import OtelTracing
from toolwire.config import Settings
from toolwire.container import (
    ApplicationContainer,
    close_resources,
    create_container,
    start_resources,
)
from toolwire.container.observed import ObservedSink
from toolwire.services.context import UserExecutionContext
from toolwire.services.events import EventPayload, RunEvent, ToolExecuting

Traced = tuple[OtelTracing, InMemorySpanExporter]


@pytest.fixture
def traced() -> Iterator[Traced]:
    """OpenTelemetry tracing into memory."""
    with memory_tracing() as made:
        yield made


@pytest_asyncio.fixture
async def containers() -> AsyncIterator[list[ApplicationContainer]]:
    """Containers to close after the test."""
    made: list[ApplicationContainer] = []
    yield made
    for container in made:
        await close_resources(container)


def traced_container(made: list[ApplicationContainer], traced: Traced, model: ScriptedModel,
                     **settings: Any) -> ApplicationContainer:
    container = create_container(Settings(
        env="test", agent=model.agent_settings(), **settings))
    container.tracing.override(providers.Object(traced[0]))
    made.append(container)
    return container


async def test_a_run_is_an_invoke_agent_span_with_a_child_per_tool_call_and_model_request(
    scripted_model: StartModel, traced: Traced, containers: list[ApplicationContainer]
) -> None:
    model = await scripted_model(
        tool_calls(("calculator", '{"expression": "6*7"}'), ("no_such_tool", "{}")),
        answer_from_tools)
    container = traced_container(containers, traced, model)
    final, events = await run_in_scope(container, "six times seven")

    assert final.status == "ok"
    spans = traced[1].get_finished_spans()
    (run,) = spans_of(spans, "invoke_agent")
    attributes = dict(run.attributes or {})
    started = next(event for event in events if event.type == "agent_started")
    assert attributes["gen_ai.agent.name"] == "openai"
    assert attributes["toolwire.run_id"] == started.run_id
    assert attributes["toolwire.thread_id"]
    assert not any("user" in key for key in attributes)  # user ids are not span attributes
    assert run.name == "invoke_agent openai" and run.status.status_code is StatusCode.UNSET

    calls = {str((span.attributes or {})["gen_ai.tool.name"]): span
             for span in children(spans, run, "execute_tool")}
    assert set(calls) == {"calculator", "no_such_tool"}
    call_ids = {e.data["tool"]: e.data["call_id"] for e in events if e.type == "tool_executing"}
    for tool, span in calls.items():
        assert (span.attributes or {})["gen_ai.tool.call.id"] == call_ids[tool]
    assert (calls["calculator"].attributes or {})["toolwire.tool.status"] == "ok"
    assert calls["no_such_tool"].status.status_code is StatusCode.ERROR
    assert (calls["no_such_tool"].attributes or {})["error.type"] == "unknown_tool"

    requests = children(spans, run, "chat")
    assert len(requests) == 2 == len(model.usage)
    for span, (prompt, completion) in zip(requests, model.usage, strict=True):
        assert (span.attributes or {})["gen_ai.request.model"] == model.agent_settings()["model"]
        assert (span.attributes or {})["gen_ai.usage.input_tokens"] == prompt
        assert (span.attributes or {})["gen_ai.usage.output_tokens"] == completion


async def test_the_same_run_counts_tokens_and_times_runs_and_tool_calls(
    scripted_model: StartModel, traced: Traced, containers: list[ApplicationContainer]
) -> None:
    model = await scripted_model(
        tool_calls(("calculator", '{"expression": "1+1"}'), ("nope", "{}")), answer_from_tools)
    container = traced_container(containers, traced, model)
    await run_in_scope(container, "one plus one")

    text = container.metrics().render().decode()
    assert f'toolwire_model_tokens_total{{kind="input"}} {float(sum(u[0] for u in model.usage))}' \
        in text
    assert f'toolwire_model_tokens_total{{kind="output"}} {float(sum(u[1] for u in model.usage))}' \
        in text
    assert 'toolwire_run_duration_seconds_count{status="ok"} 1.0' in text
    assert 'toolwire_tool_call_duration_seconds_count{tool="calculator"} 1.0' in text
    assert 'toolwire_tool_call_duration_seconds_count{tool="(unknown)"} 1.0' in text
    assert 'tool="nope"' not in text  # a name the model made up is not a label


async def test_a_run_that_fails_says_so_in_its_span_status(
    scripted_model: StartModel, traced: Traced, containers: list[ApplicationContainer]
) -> None:
    model = await scripted_model(forever=tool_calls(("calculator", '{"expression": "1"}')))
    container = create_container(Settings(
        env="test", agent=model.agent_settings(max_steps=1)))
    container.tracing.override(providers.Object(traced[0]))
    containers.append(container)
    final, _ = await run_in_scope(container, "loop")

    assert final.status == "error"
    (run,) = spans_of(traced[1].get_finished_spans(), "invoke_agent")
    assert run.status.status_code is StatusCode.ERROR
    assert "max_steps" in (run.status.description or "")
    assert (run.attributes or {})["toolwire.run.status"] == "error"


async def test_a_cancelled_run_says_so_in_its_span_status(
    scripted_model: StartModel, traced: Traced, containers: list[ApplicationContainer]
) -> None:
    asked = asyncio.Event()

    async def hang(request: web.Request, payload: dict[str, Any]) -> web.StreamResponse:
        asked.set()
        return await slow(30)(request, payload)

    model = await scripted_model(hang)
    container = traced_container(containers, traced, model)
    scope = container.request_scope(UserExecutionContext.for_user("alice"))

    async def run() -> None:
        async with scope:
            await scope.run("take your time")

    task = asyncio.ensure_future(run())
    await asyncio.wait_for(asked.wait(), 10)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

    spans = traced[1].get_finished_spans()
    (run_span,) = spans_of(spans, "invoke_agent")
    assert run_span.status.status_code is StatusCode.ERROR
    assert run_span.status.description == "the run was cancelled"
    (request,) = children(spans, run_span, "chat")
    assert request.status.status_code is StatusCode.ERROR  # the request it was waiting on


async def test_an_mcp_call_over_http_carries_its_tool_span_as_traceparent(
    mcp_http_server: McpHttpServer, scripted_model: StartModel, traced: Traced,
    containers: list[ApplicationContainer],
) -> None:
    model = await scripted_model(
        tool_calls(("header", '{"name": "traceparent"}')), answer("done"))
    container = traced_container(
        containers, traced, model,
        tools={"mcp_servers": [{"name": "demo", "url": mcp_http_server.url}]})
    await start_resources(container)
    _, events = await run_in_scope(container, "which traceparent?")

    (completed,) = [e.data for e in events if e.type == "tool_completed"]
    (call,) = spans_of(traced[1].get_finished_spans(), "execute_tool")
    context = call.get_span_context()
    assert context is not None
    traceparent = completed["result"]["result"]  # what the server saw in the HTTP request
    assert traceparent.startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")


class Unpublishable:
    """A sink whose bus is down: nothing it is given is published."""

    async def emit(self, payload: EventPayload) -> RunEvent:
        raise ConnectionError("the bus is down")

    async def aclose(self) -> None:
        """Nothing to close."""


async def test_a_tool_call_whose_start_is_not_published_ends_its_span(traced: Traced) -> None:
    tracing, exporter = traced
    trace = tracing.run(UserExecutionContext.for_user("alice"), "embedded")
    sink = ObservedSink(Unpublishable(), trace, Metrics())
    with pytest.raises(ConnectionError):
        await sink.emit(ToolExecuting("calculator", "call-1", {"expression": "1"}))
    trace.ended("error", "the bus is down")

    (call,) = spans_of(exporter.get_finished_spans(), "execute_tool")
    assert call.status.status_code is StatusCode.ERROR
    assert (call.attributes or {})["error.type"] == "ConnectionError"
