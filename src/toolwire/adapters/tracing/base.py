"""`Tracing`: the hooks a run, its tool calls and its model requests call; here they do nothing.

This is tracing switched off: every hook is a method that returns at once, and nothing of
OpenTelemetry is imported. `OtelTracing` (tracing/otel.py) overrides each hook with spans.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from toolwire.services.errors import ToolwireError

if TYPE_CHECKING:
    from aiohttp.typedefs import Middleware

    from toolwire.services.context import UserExecutionContext


class TracingConfigError(ToolwireError):
    """The `OTEL_*` variables ask for tracing toolwire cannot do (start-up stops, naming it)."""


class ModelTrace:
    """One model request (`with tracing.model_request(model) as trace:`)."""

    __slots__ = ()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """End the request; an exception marks it failed."""

    def usage(self, input_tokens: int, output_tokens: int) -> None:
        """Record the tokens the model reported for this request."""


class RunTrace:
    """One run: opened by `Tracing.run`, told of its tool calls, ended once."""

    __slots__ = ()

    def tool_started(self, tool: str, call_id: str) -> None:
        """A tool call starts (its `tool_executing` is being published)."""

    def tool_ended(self, call_id: str, status: str, error_type: str | None) -> None:
        """The tool call `call_id` ended with `status` (`error_type` when not ok)."""

    def ended(self, status: str, error: str | None) -> None:
        """The run ended with `status` (ok, error, cancelled); `error` says why when not ok."""


NO_MODEL_TRACE = ModelTrace()
NO_RUN_TRACE = RunTrace()


class Tracing:
    """Tracing switched off: no spans, no imports, no cost beyond a method call."""

    __slots__ = ()

    enabled = False

    def run(self, user_context: UserExecutionContext, agent_name: str) -> RunTrace:
        """Open the trace of one run (the current context's span is its parent)."""
        return NO_RUN_TRACE

    def model_request(self, model: str) -> ModelTrace:
        """Open the trace of one model request of the current run."""
        return NO_MODEL_TRACE

    def web_middleware(self) -> Middleware | None:
        """Return the middleware that parents runs on a request's `traceparent`, if any."""
        return None

    def force_flush(self) -> bool:
        """Export every ended span now; return False when the exporter did not finish."""
        return True

    def shutdown(self) -> None:
        """Export what is pending and stop exporting."""
