"""`OtelTracing`: GenAI spans of runs, tool calls and model requests (OpenTelemetry SDK).

Span names and attributes follow the OpenTelemetry GenAI semantic conventions:
`invoke_agent {agent}` per run, `execute_tool {tool}` per tool call and `chat {model}` per
model request, the last two children of the first. User ids are never span attributes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from toolwire._version import __version__
from toolwire.adapters.tracing.base import ModelTrace, RunTrace, Tracing, TracingConfigError
from toolwire.adapters.tracing.propagation import propagate_with

if TYPE_CHECKING:
    from toolwire.services.context import UserExecutionContext

SCOPE: Final = "toolwire"
PROVIDER: Final = "openai"  # gen_ai.provider.name: the chat-completions API family


class OtelModelTrace(ModelTrace):
    """The `chat` span of one model request."""

    __slots__ = ("_span",)

    def __init__(self, span: Span) -> None:
        self._span = span

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is not None:
            self._span.set_attribute("error.type", type(error).__name__)
            self._span.set_status(Status(StatusCode.ERROR, str(error)))
        self._span.end()

    def usage(self, input_tokens: int, output_tokens: int) -> None:
        self._span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
        self._span.set_attribute("gen_ai.usage.output_tokens", output_tokens)


class OtelRunTrace(RunTrace):
    """The `invoke_agent` span of one run and the `execute_tool` spans of its calls.

    The run's span is the current span of the run's task while it runs, so model requests
    and tool calls (in tasks the run starts) become its children; a tool call's span is
    current in its task while the tool runs, so an MCP call carries it on.
    """

    __slots__ = ("_calls", "_span", "_token", "_tracer")

    def __init__(self, tracer: trace.Tracer, span: Span) -> None:
        self._tracer = tracer
        self._span = span
        self._token = context.attach(trace.set_span_in_context(span))
        self._calls: dict[str, tuple[Span, Token[context.Context]]] = {}

    def tool_started(self, tool: str, call_id: str) -> None:
        span = self._tracer.start_span(f"execute_tool {tool}", kind=SpanKind.INTERNAL, attributes={
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": call_id,
        })
        self._calls[call_id] = (span, context.attach(trace.set_span_in_context(span)))

    def tool_ended(self, call_id: str, status: str, error_type: str | None) -> None:
        opened = self._calls.pop(call_id, None)
        if opened is None:
            return
        span, token = opened
        span.set_attribute("toolwire.tool.status", status)
        if status != "ok":
            span.set_attribute("error.type", error_type or status)
            span.set_status(Status(StatusCode.ERROR, status))
        span.end()
        context.detach(token)

    def ended(self, status: str, error: str | None) -> None:
        self._span.set_attribute("toolwire.run.status", status)
        if status != "ok":
            self._span.set_status(Status(StatusCode.ERROR, error or status))
        self._span.end()
        context.detach(self._token)


class OtelTracing(Tracing):
    """Spans through one `TracerProvider`; a request's `traceparent` parents its runs."""

    __slots__ = ("_provider", "_tracer")

    enabled = True

    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer(SCOPE, __version__)
        propagate_with(propagate.inject)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> OtelTracing:
        """Export in batches to what `OTEL_TRACES_EXPORTER` and `OTEL_EXPORTER_OTLP_*` name.

        `OTEL_SERVICE_NAME` (default `toolwire`) and `OTEL_RESOURCE_ATTRIBUTES` describe the
        service; the batch processor reads its `OTEL_BSP_*` variables itself.
        """
        resource = Resource.create({
            "service.name": environ.get("OTEL_SERVICE_NAME") or "toolwire",
            "service.version": __version__,
        })
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(exporting(environ))
        return cls(provider)

    def run(self, user_context: UserExecutionContext, agent_name: str) -> RunTrace:
        span = self._tracer.start_span(
            f"invoke_agent {agent_name}", kind=SpanKind.INTERNAL, attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": agent_name,
                "toolwire.run_id": user_context.run_id,
                "toolwire.thread_id": user_context.thread_id,
            })
        return OtelRunTrace(self._tracer, span)

    def model_request(self, model: str) -> ModelTrace:
        return OtelModelTrace(self._tracer.start_span(
            f"chat {model}", kind=SpanKind.CLIENT, attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": PROVIDER,
                "gen_ai.request.model": model,
            }))

    def web_middleware(self) -> Middleware:
        return parent_from_headers

    def force_flush(self) -> bool:
        return self._provider.force_flush()

    def shutdown(self) -> None:
        self._provider.shutdown()
        propagate_with(None)


@web.middleware
async def parent_from_headers(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Make the request's W3C `traceparent` the parent of what its handler starts."""
    if "traceparent" not in request.headers:
        return await handler(request)
    token = context.attach(propagate.extract(request.headers))
    try:
        return await handler(request)
    finally:
        context.detach(token)


def exporting(environ: Mapping[str, str]) -> SpanProcessor:
    """Return a batch processor for the exporter the environment names (OTLP by default)."""
    return BatchSpanProcessor(exporter(environ))


def exporter(environ: Mapping[str, str]) -> SpanExporter:
    """Return the span exporter `OTEL_TRACES_EXPORTER` names: `otlp` (default) or `console`."""
    kind = environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")[0].strip().lower()
    if kind == "console":
        return ConsoleSpanExporter()
    if kind != "otlp":
        raise TracingConfigError(
            f"OTEL_TRACES_EXPORTER={kind!r}: toolwire exports otlp or console")
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        return OTLPSpanExporter()
    if protocol != "http/protobuf":
        raise TracingConfigError(
            f"OTLP protocol {protocol!r}: toolwire exports http/protobuf or grpc")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpSpanExporter,
    )
    return HttpSpanExporter()
