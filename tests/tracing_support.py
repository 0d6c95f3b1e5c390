"""Tracing for tests: OpenTelemetry spans kept in the SDK's memory, read back as a tree."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from toolwire.adapters.tracing.otel import OtelTracing


@contextmanager
def memory_tracing() -> Iterator[tuple[OtelTracing, InMemorySpanExporter]]:
    """Yield tracing that keeps every ended span in memory; shut it down afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = OtelTracing(provider)
    try:
        yield tracing, exporter
    finally:
        tracing.shutdown()


def operation(span: ReadableSpan) -> str:
    """Return the span's `gen_ai.operation.name`."""
    return str((span.attributes or {}).get("gen_ai.operation.name", ""))


def spans_of(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    """Return the spans whose operation is `name`, in the order they ended."""
    return [span for span in spans if operation(span) == name]


def children(spans: Sequence[ReadableSpan], parent: ReadableSpan, name: str) -> list[ReadableSpan]:
    """Return the spans of operation `name` whose parent is `parent`."""
    parent_id = parent.context.span_id if parent.context is not None else None
    return [span for span in spans_of(spans, name)
            if span.parent is not None and span.parent.span_id == parent_id]
