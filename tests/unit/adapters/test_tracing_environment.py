"""The standard `OTEL_*` variables turn tracing on; without them it is off."""

from __future__ import annotations

import pytest

from toolwire.adapters.tracing import tracing_backend


@pytest.mark.parametrize(("environ", "backend"), [
    ({}, "off"),
    ({"OTEL_SERVICE_NAME": "chat"}, "off"),  # naming the service exports nothing
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otel"),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "otel"),
    ({"OTEL_TRACES_EXPORTER": "console"}, "otel"),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, "off"),
    ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, "off"),
])
def test_which_variables_turn_tracing_on(environ: dict[str, str], backend: str) -> None:
    assert tracing_backend(environ) == backend
