"""The five run events of docs/protocol.md: the payloads services emit, the stamped envelope."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Literal

EventType = Literal[
    "agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"
]
EVENT_TYPES: Final[tuple[EventType, ...]] = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)
ToolStatus = Literal["ok", "error", "timeout", "cancelled"]
RunStatus = Literal["ok", "error", "cancelled"]


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What went wrong, for clients: a short machine type and a human message."""

    type: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Return the wire form `{"type", "message"}`."""
        return {"type": self.type, "message": self.message}


@dataclass(frozen=True, slots=True)
class AgentStarted:
    """First event of every run."""

    type: ClassVar[EventType] = "agent_started"
    agent: str
    message: str
    request_id: str

    def data(self) -> dict[str, Any]:
        """Return the event's `data` object."""
        return {"agent": self.agent, "message": self.message, "request_id": self.request_id}


@dataclass(frozen=True, slots=True)
class AgentThinking:
    """The agent says what it is about to do."""

    type: ClassVar[EventType] = "agent_thinking"
    text: str
    step: int

    def data(self) -> dict[str, Any]:
        """Return the event's `data` object."""
        return {"text": self.text, "step": self.step}


@dataclass(frozen=True, slots=True)
class ToolExecuting:
    """A tool call is about to run."""

    type: ClassVar[EventType] = "tool_executing"
    tool: str
    call_id: str
    args: dict[str, Any]

    def data(self) -> dict[str, Any]:
        """Return the event's `data` object."""
        return {"tool": self.tool, "call_id": self.call_id, "args": self.args}


@dataclass(frozen=True, slots=True)
class ToolCompleted:
    """A tool call ended: `result` when ok, `error` otherwise."""

    type: ClassVar[EventType] = "tool_completed"
    tool: str
    call_id: str
    status: ToolStatus
    duration_ms: float
    result: Any = None
    error: ErrorInfo | None = None

    def data(self) -> dict[str, Any]:
        """Return the event's `data` object."""
        out: dict[str, Any] = {"tool": self.tool, "call_id": self.call_id, "status": self.status}
        if self.status == "ok":
            out["result"] = self.result
        else:
            out["error"] = (self.error or ErrorInfo(self.status, self.status)).to_dict()
        out["duration_ms"] = self.duration_ms
        return out


@dataclass(frozen=True, slots=True)
class AgentCompleted:
    """Last event of every run: `answer` when ok, `error` otherwise."""

    type: ClassVar[EventType] = "agent_completed"
    status: RunStatus
    duration_ms: float
    answer: str | None = None
    error: ErrorInfo | None = None

    def data(self) -> dict[str, Any]:
        """Return the event's `data` object."""
        out: dict[str, Any] = {"status": self.status}
        if self.status == "ok":
            out["answer"] = self.answer
        else:
            out["error"] = (self.error or ErrorInfo(self.status, self.status)).to_dict()
        out["duration_ms"] = self.duration_ms
        return out


EventPayload = AgentStarted | AgentThinking | ToolExecuting | ToolCompleted | AgentCompleted


def format_ts(moment: datetime) -> str:
    """Format a UTC time as `2026-11-24T21:50:00.123456Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One stamped event of a run, exactly as it goes on the wire (docs/protocol.md)."""

    type: EventType
    run_id: str
    thread_id: str
    seq: int
    ts: str
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def stamp(
        cls, payload: EventPayload, *, run_id: str, thread_id: str, seq: int, now: datetime
    ) -> RunEvent:
        """Wrap `payload` in the envelope with its run, thread, sequence number and time."""
        return cls(payload.type, run_id, thread_id, seq, format_ts(now), payload.data())

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON-ready envelope."""
        return {
            "type": self.type,
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "seq": self.seq,
            "ts": self.ts,
            "data": self.data,
        }

    def to_json(self) -> str:
        """Return the envelope as compact JSON text."""
        return json.dumps(self.to_wire(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> RunEvent:
        """Rebuild an event from its wire form (raises `ValueError` when malformed)."""
        try:
            kind = raw["type"]
            if kind not in EVENT_TYPES:
                raise ValueError(f"unknown event type {kind!r}")
            return cls(
                kind, str(raw["run_id"]), str(raw["thread_id"]), int(raw["seq"]),
                str(raw["ts"]), dict(raw["data"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed run event: {exc}") from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> RunEvent:
        """Rebuild an event from its JSON text."""
        return cls.from_wire(json.loads(text))
