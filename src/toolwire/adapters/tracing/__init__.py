"""Traces of runs, tool calls and model requests: OpenTelemetry when configured, else nothing.

Nothing of OpenTelemetry is imported unless the `OTEL_*` variables turn tracing on.
"""

from toolwire.adapters.tracing.base import ModelTrace, RunTrace, Tracing, TracingConfigError
from toolwire.adapters.tracing.environment import otel_tracing, tracing_backend
from toolwire.adapters.tracing.propagation import trace_carrier

__all__ = ["ModelTrace", "RunTrace", "Tracing", "TracingConfigError", "otel_tracing",
           "trace_carrier", "tracing_backend"]
