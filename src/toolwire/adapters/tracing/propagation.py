"""The current trace context as a carrier for outgoing requests (MCP tool calls)."""

from __future__ import annotations

from collections.abc import Callable

Injector = Callable[[dict[str, str]], None]

_inject: Injector | None = None


def propagate_with(inject: Injector | None) -> None:
    """Set how the current trace context is written into a carrier (None: tracing off)."""
    global _inject  # one process, one propagator, like OpenTelemetry's own
    _inject = inject


def trace_carrier() -> dict[str, str] | None:
    """Return the current trace context (`traceparent`, …), or None when tracing is off."""
    if _inject is None:
        return None
    carrier: dict[str, str] = {}
    _inject(carrier)
    return carrier or None
