"""Sinks a run wraps around its scope's: timing and tracing tool calls, noting the turn."""

from __future__ import annotations

import asyncio

from toolwire.adapters.metrics import UNKNOWN_TOOL, Metrics
from toolwire.adapters.tracing import RunTrace
from toolwire.services.events import EventPayload, RunEvent, ToolCompleted, ToolExecuting
from toolwire.services.ports import EventSink
from toolwire.services.threads.recorder import TurnRecorder
from toolwire.services.wire_json import timestamp


class ObservedSink:
    """Passes every event on to `sink`; sees `tool_executing` / `tool_completed` on the way.

    A call's trace starts before its `tool_executing` is published and ends after its
    `tool_completed` is, in the task that runs the call, so the tool runs inside its span.
    """

    __slots__ = ("_metrics", "_sink", "_trace")

    def __init__(self, sink: EventSink, trace: RunTrace, metrics: Metrics) -> None:
        self._sink = sink
        self._trace = trace
        self._metrics = metrics

    async def emit(self, payload: EventPayload) -> RunEvent:
        """Publish `payload` through the wrapped sink."""
        if type(payload) is ToolExecuting:
            self._trace.tool_started(payload.tool, payload.call_id)
            try:
                return await self._sink.emit(payload)
            except Exception as exc:  # not published: no `tool_completed` will follow
                self._trace.tool_ended(payload.call_id, "error", type(exc).__name__)
                raise
        if type(payload) is ToolCompleted:
            try:
                return await self._sink.emit(payload)
            finally:
                self._ended(payload)
        return await self._sink.emit(payload)

    def _ended(self, call: ToolCompleted) -> None:
        error_type = call.error.type if call.error is not None else None
        tool = UNKNOWN_TOOL if error_type == "unknown_tool" else call.tool
        self._metrics.tool_call_ended(tool, call.duration_ms / 1000)
        self._trace.tool_ended(call.call_id, call.status, error_type)

    async def aclose(self) -> None:
        """Close the wrapped sink."""
        await self._sink.aclose()


class RecordingSink:
    """Passes every event on to `sink` and notes each one published in the run's turn."""

    __slots__ = ("_recorder", "_sink")

    def __init__(self, sink: EventSink, recorder: TurnRecorder) -> None:
        self._sink = sink
        self._recorder = recorder

    async def emit(self, payload: EventPayload) -> RunEvent:
        """Publish `payload` through the wrapped sink, then note it."""
        try:
            event = await self._sink.emit(payload)
        except asyncio.CancelledError:
            self._recorder.note(payload, timestamp())  # an emit finishes under cancellation
            raise
        self._recorder.note(payload, event.ts)
        return event

    async def aclose(self) -> None:
        """Close the wrapped sink."""
        await self._sink.aclose()
