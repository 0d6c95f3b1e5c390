"""`OTEL_TRACES_EXPORTER` and the OTLP protocol variables pick the span exporter."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from toolwire.adapters.tracing import TracingConfigError
from toolwire.adapters.tracing.otel import exporter


@pytest.mark.parametrize(("environ", "kind"), [
    ({}, HttpExporter),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, HttpExporter),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, GrpcExporter),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL":
      "http/protobuf"}, HttpExporter),  # the traces-only variable wins
    ({"OTEL_TRACES_EXPORTER": "console"}, ConsoleSpanExporter),
])
def test_the_variables_pick_the_exporter(environ: dict[str, str], kind: type) -> None:
    made = exporter(environ)
    try:
        assert type(made) is kind
    finally:
        made.shutdown()


@pytest.mark.parametrize(("environ", "named"), [
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, "zipkin"),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "http/json"),
])
def test_an_exporter_toolwire_lacks_is_refused_by_name(environ: dict[str, str],
                                                       named: str) -> None:
    with pytest.raises(TracingConfigError, match=named):
        exporter(environ)
