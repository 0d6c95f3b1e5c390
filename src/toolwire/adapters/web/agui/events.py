"""The ONE mapping of toolwire's five run events to AG-UI events.

The mapping is a pure function of one event: the AG-UI events of a `seq` are always the same,
so a stream can be resumed at any of them (an SSE `Last-Event-ID` names `run_id:seq:index`).
Every AG-UI event carries `metadata.toolwire` = `{"run_id", "seq"}` so that a client reading
several runs on one socket can tell them apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from ag_ui.core import (
    PROTOCOL_VERSION,
    BaseEvent,
    CustomEvent,
    ReasoningEndEvent,
    ReasoningMessageContentEvent,
    ReasoningMessageEndEvent,
    ReasoningMessageStartEvent,
    ReasoningStartEvent,
    RunAgentInput,
    RunErrorEvent,
    RunFinishedCancelledOutcome,
    RunFinishedEvent,
    RunFinishedSuccessOutcome,
    RunStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
    UserMessage,
)

from toolwire.services.events import RunEvent
from toolwire.services.wire_json import encode

METADATA_KEY: Final = "toolwire"


def agui_events(event: RunEvent) -> list[BaseEvent]:
    """Return the AG-UI events that stand for `event`, in the order they are sent."""
    out = _MAPPERS[event.type](event)
    stamp = {"timestamp": _epoch_ms(event.ts)}
    return [e.model_copy(update={**stamp, "metadata": _metadata(event, e)}) for e in out]


def agui_bytes(event: BaseEvent) -> bytes:
    """Return one AG-UI event as UTF-8 JSON (camelCase, absent fields left out).

    Encoded like toolwire's own frames, so a lone surrogate in a tool's text becomes U+FFFD
    rather than an error.
    """
    return encode(event.model_dump(mode="json", by_alias=True))


def error_event(code: str, message: str, request_id: str | None = None) -> RunErrorEvent:
    """Return the `RUN_ERROR` that reports a refused request (no run started or found)."""
    metadata = {METADATA_KEY: {"request_id": request_id}} if request_id is not None else None
    return RunErrorEvent(message=message, code=code, metadata=metadata)


def pong_event() -> CustomEvent:
    """Return the answer to a `ping` on an AG-UI socket."""
    return CustomEvent(name="pong", value=None)


def _metadata(event: RunEvent, out: BaseEvent) -> dict[str, Any]:
    extra = (out.metadata or {}).get(METADATA_KEY, {})
    return {METADATA_KEY: {"run_id": event.run_id, "seq": event.seq, **extra}}


def _epoch_ms(ts: str) -> int:
    moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 1000 + moment.microsecond // 1000


def _started(event: RunEvent) -> list[BaseEvent]:
    data = event.data
    request = RunAgentInput(
        thread_id=event.thread_id, run_id=str(data["request_id"]),
        messages=[UserMessage(id=f"{event.run_id}:user", content=str(data["message"]))])
    return [RunStartedEvent(
        thread_id=event.thread_id, run_id=event.run_id, protocol_version=PROTOCOL_VERSION,
        input=request, metadata={METADATA_KEY: {"agent": data.get("agent")}})]


def _thinking(event: RunEvent) -> list[BaseEvent]:
    span = f"{event.run_id}:{event.seq}:reasoning"
    message = f"{event.run_id}:{event.seq}"
    text = str(event.data.get("text", ""))
    content: list[BaseEvent] = (
        [ReasoningMessageContentEvent(message_id=message, delta=text)] if text else [])
    return [
        ReasoningStartEvent(message_id=span),
        ReasoningMessageStartEvent(message_id=message),
        *content,
        ReasoningMessageEndEvent(message_id=message),
        ReasoningEndEvent(message_id=span),
    ]


def _executing(event: RunEvent) -> list[BaseEvent]:
    call_id = str(event.data["call_id"])
    args = json.dumps(event.data.get("args", {}), separators=(",", ":"), ensure_ascii=False)
    return [
        ToolCallStartEvent(tool_call_id=call_id, tool_call_name=str(event.data["tool"])),
        ToolCallArgsEvent(tool_call_id=call_id, delta=args),
        ToolCallEndEvent(tool_call_id=call_id),
    ]


def _completed_tool(event: RunEvent) -> list[BaseEvent]:
    data = event.data
    status = data.get("status")
    about: dict[str, Any] = {"status": status, "duration_ms": data.get("duration_ms")}
    if status == "ok":
        content = _as_text(data.get("result"))
    else:
        error = data.get("error") or {}
        about["error"] = error
        content = str(error.get("message") or status)
    return [ToolCallResultEvent(
        message_id=f"{event.run_id}:{event.seq}", tool_call_id=str(data["call_id"]),
        content=content, role="tool", metadata={METADATA_KEY: about})]


def _completed_run(event: RunEvent) -> list[BaseEvent]:
    data = event.data
    about = {METADATA_KEY: {"duration_ms": data.get("duration_ms")}}
    status = data.get("status")
    if status == "ok":
        message = f"{event.run_id}:answer"
        answer = str(data.get("answer") or "")
        content: list[BaseEvent] = (
            [TextMessageContentEvent(message_id=message, delta=answer)] if answer else [])
        return [
            TextMessageStartEvent(message_id=message, role="assistant"),
            *content,
            TextMessageEndEvent(message_id=message),
            RunFinishedEvent(thread_id=event.thread_id, run_id=event.run_id,
                             outcome=RunFinishedSuccessOutcome(), metadata=about),
        ]
    if status == "cancelled":
        return [RunFinishedEvent(thread_id=event.thread_id, run_id=event.run_id,
                                 outcome=RunFinishedCancelledOutcome(), metadata=about)]
    error = data.get("error") or {}
    return [RunErrorEvent(message=str(error.get("message") or "the run failed"),
                          code=str(error.get("type") or "error"), metadata=about)]


def _as_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False)


_MAPPERS: Final[dict[str, Callable[[RunEvent], list[BaseEvent]]]] = {
    "agent_started": _started,
    "agent_thinking": _thinking,
    "tool_executing": _executing,
    "tool_completed": _completed_tool,
    "agent_completed": _completed_run,
}
