"""A real OTLP/HTTP trace receiver on loopback: decodes each export with opentelemetry-proto."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span


@dataclass
class OtlpReceiver:
    """Keeps every span it is sent; `await spans_until(done)` waits for the ones a test needs."""

    spans: list[Span] = field(default_factory=list)
    content_types: set[str] = field(default_factory=set)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        """Take one `ExportTraceServiceRequest` (protobuf) in."""
        self.content_types.add(request.content_type)
        export = ExportTraceServiceRequest.FromString(await request.read())
        async with self._arrived:
            for resource in export.resource_spans:
                for scope in resource.scope_spans:
                    self.spans.extend(scope.spans)
            self._arrived.notify_all()
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(),
                            content_type="application/x-protobuf")

    async def spans_until(self, done: Callable[[list[Span]], bool],
                          within_s: float = 15.0) -> list[Span]:
        """Return the spans received once `done(spans)` holds (fail after `within_s`)."""
        async with asyncio.timeout(within_s), self._arrived:
            await self._arrived.wait_for(lambda: done(self.spans))
            return list(self.spans)

    def app(self) -> web.Application:
        """Return the receiver's app: `POST /v1/traces`."""
        app = web.Application()
        app.router.add_post("/v1/traces", self.handle)
        return app


def attributes(span: Span) -> dict[str, object]:
    """Return a received span's attributes as plain values."""
    return {item.key: plain(item.value) for item in span.attributes}


def plain(value: AnyValue) -> object:
    """Return the Python value an OTLP `AnyValue` holds (strings, integers, booleans)."""
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind is not None else None
