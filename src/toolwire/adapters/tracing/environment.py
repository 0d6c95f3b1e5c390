"""Whether the standard `OTEL_*` variables turn tracing on, and the tracing they configure."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from toolwire.adapters.tracing.base import Tracing, TracingConfigError

TracingBackend = Literal["off", "otel"]

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_backend(environ: Mapping[str, str] = os.environ) -> TracingBackend:
    """Return `otel` when the environment configures a trace exporter, else `off`.

    On: an OTLP endpoint is set, or `OTEL_TRACES_EXPORTER` names an exporter other than
    `none`. `OTEL_SDK_DISABLED=true` turns it off whatever else is set.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return "off"
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return "off" if exporter == "none" else "otel"
    return "otel" if any(environ.get(name) for name in ENDPOINT_VARIABLES) else "off"


def otel_tracing() -> Tracing:
    """Return OpenTelemetry tracing exporting as the `OTEL_*` variables say.

    Imports OpenTelemetry (the `toolwire[otel]` extra) only now, when tracing is on.
    """
    try:
        from toolwire.adapters.tracing.otel import OtelTracing
    except ImportError as exc:
        raise TracingConfigError(
            "the OTEL_* variables turn tracing on, but OpenTelemetry is not installed: "
            "pip install 'toolwire[otel]'"
        ) from exc
    return OtelTracing.from_environment()
