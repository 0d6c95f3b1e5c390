"""A `traceparent` on `POST /agui` parents the run; a socket without one starts its own trace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from dependency_injector import providers
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.e2e import conftest as e2e
from tests.e2e.agui_client import post_agui, read_sse, run_input
from tests.e2e.conftest import chat_run, connect, token_for
from tests.tracing_support import children, memory_tracing, spans_of
from toolwire.adapters.tracing.otel import OtelTracing
from toolwire.container import create_app, create_container

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
CALC = '/call calculator {"expression": "6*7"}'

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def traced() -> Iterator[tuple[OtelTracing, InMemorySpanExporter]]:
    with memory_tracing() as made:
        yield made


async def traced_server(aiohttp_client: Any, tracing: OtelTracing) -> Client:
    container = create_container(e2e.test_settings())
    container.tracing.override(providers.Object(tracing))
    client: Client = await aiohttp_client(create_app(container))
    return client


async def test_a_traceparent_on_agui_parents_the_run_and_its_tool_call(
    aiohttp_client: Any, traced: tuple[OtelTracing, InMemorySpanExporter]
) -> None:
    server = await traced_server(aiohttp_client, traced[0])
    token = await token_for(server, "ada")
    response = await post_agui(server, token, run_input(CALC, thread_id="t-7"),
                               traceparent=f"00-{TRACE_ID}-{PARENT_ID}-01")
    await read_sse(response)

    spans = traced[1].get_finished_spans()
    (run,) = spans_of(spans, "invoke_agent")
    assert run.context is not None and run.parent is not None
    assert f"{run.context.trace_id:032x}" == TRACE_ID
    assert f"{run.parent.span_id:016x}" == PARENT_ID
    assert (run.attributes or {})["toolwire.thread_id"] == "t-7"
    (call,) = children(spans, run, "execute_tool")
    assert (call.attributes or {})["gen_ai.tool.name"] == "calculator"


async def test_a_socket_without_traceparent_starts_a_trace_per_run(
    aiohttp_client: Any, traced: tuple[OtelTracing, InMemorySpanExporter]
) -> None:
    server = await traced_server(aiohttp_client, traced[0])
    ws = await connect(server, "bo")
    await chat_run(ws, CALC)
    await chat_run(ws, CALC)
    await ws.close()

    runs = spans_of(traced[1].get_finished_spans(), "invoke_agent")
    assert len(runs) == 2 and all(run.parent is None for run in runs)
    assert len({run.context.trace_id for run in runs if run.context is not None}) == 2
