"""A chat over /ws with a `traceparent`, traced to a real OTLP/HTTP receiver and counted."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from pytest_aiohttp import AiohttpServer

from tests.e2e import conftest as e2e
from tests.e2e.conftest import chat_run, token_for
from tests.e2e.otlp_receiver import OtlpReceiver, attributes
from tests.fixtures_models import StartModel, answer_from_tools, tool_calls
from toolwire.container import ApplicationContainer, create_app, create_container

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest_asyncio.fixture
async def receiver(
    aiohttp_server: AiohttpServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[OtlpReceiver]:
    """A receiver the standard `OTEL_*` variables point at (exporting every 50 ms)."""
    receiving = OtlpReceiver()
    server = await aiohttp_server(receiving.app())
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", str(server.make_url("")).rstrip("/"))
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "toolwire-e2e")
    yield receiving


def operation(span: Span) -> object:
    return attributes(span).get("gen_ai.operation.name")


async def test_a_chat_with_a_traceparent_is_traced_in_that_trace(
    receiver: OtlpReceiver, scripted_model: StartModel, aiohttp_client: Any
) -> None:
    model = await scripted_model(
        tool_calls(("calculator", '{"expression": "6*7"}'), ("echo", '{"text": "hi"}')),
        answer_from_tools)
    container: ApplicationContainer = create_container(
        e2e.test_settings(agent=model.agent_settings()))
    client: TestClient[web.Request, web.Application] = await aiohttp_client(create_app(container))
    try:
        token = await token_for(client, "alice")
        ws = await client.ws_connect("/ws", headers={
            "Authorization": f"Bearer {token}", "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
        frames = await chat_run(ws, "six times seven, and say hi")
        await ws.close()
        assert frames[-1]["data"]["status"] == "ok"

        def complete(spans: list[Span]) -> bool:
            return sum(operation(s) in ("execute_tool", "chat") for s in spans) == 4 and any(
                operation(s) == "invoke_agent" for s in spans)

        spans = await receiver.spans_until(complete)
        metrics = await (await client.get("/metrics")).text()
    finally:
        container.tracing().shutdown()

    assert receiver.content_types == {"application/x-protobuf"}
    (run,) = [span for span in spans if operation(span) == "invoke_agent"]
    assert run.trace_id.hex() == TRACE_ID and run.parent_span_id.hex() == PARENT_ID
    assert attributes(run)["toolwire.run_id"] == frames[0]["run_id"]
    assert run.status.code != Status.STATUS_CODE_ERROR

    def children_of(name: str) -> list[Span]:
        return [span for span in spans if operation(span) == name
                and span.parent_span_id == run.span_id and span.trace_id == run.trace_id]

    call_ids = {f["data"]["call_id"] for f in frames if f["type"] == "tool_executing"}
    tools = children_of("execute_tool")
    assert {attributes(span)["gen_ai.tool.call.id"] for span in tools} == call_ids
    assert {attributes(span)["gen_ai.tool.name"] for span in tools} == {"calculator", "echo"}
    requests = children_of("chat")
    reported = sorted((attributes(s)["gen_ai.usage.input_tokens"],
                       attributes(s)["gen_ai.usage.output_tokens"]) for s in requests)
    assert reported == sorted(model.usage) and len(reported) == 2

    input_tokens, output_tokens = (sum(usage[i] for usage in model.usage) for i in (0, 1))
    assert f'toolwire_model_tokens_total{{kind="input"}} {float(input_tokens)}' in metrics
    assert f'toolwire_model_tokens_total{{kind="output"}} {float(output_tokens)}' in metrics
    assert 'toolwire_run_duration_seconds_count{status="ok"} 1.0' in metrics
    for tool in ("calculator", "echo"):
        assert f'toolwire_tool_call_duration_seconds_count{{tool="{tool}"}} 1.0' in metrics


def test_an_exporter_toolwire_lacks_stops_serve_naming_the_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOOLWIRE_", "OTEL_"))}
    env.update(TOOLWIRE_ENV="test", OTEL_TRACES_EXPORTER="zipkin")
    done = subprocess.run([sys.executable, "-m", "toolwire", "serve", "--port", "0"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 1
    assert "Error: OTEL_TRACES_EXPORTER='zipkin': toolwire exports otlp or console" in done.stderr
    assert "Traceback" not in done.stderr
