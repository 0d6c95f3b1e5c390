"""The five run events: payloads the services emit and the stamped envelope on the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal

from toolwire.services.wire_json import decode_object, encode, timestamp

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
ENVELOPE_KEYS: Final = frozenset({"type", "run_id", "thread_id", "seq", "ts", "data"})
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


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCompleted:
    """How a tool call ended: the `tool_completed` event and what `call_tool` returns.

    `result` when `status` is `ok`, `error` otherwise.
    """

    type: ClassVar[EventType] = "tool_completed"
    tool: str
    call_id: str
    status: ToolStatus
    duration_ms: float
    result: Any = None
    error: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        """Return True when the tool returned a result."""
        return self.status == "ok"

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


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One stamped event of a run, exactly as it goes on the wire.

    Its JSON text is computed once (`encoded()`) and shared by every socket and bus that
    carries it; stamping guarantees it is valid UTF-8.
    """

    type: EventType
    run_id: str
    thread_id: str
    seq: int
    ts: str
    data: dict[str, Any] = field(default_factory=dict)
    _encoded: bytes | None = field(default=None, compare=False, repr=False)

    @classmethod
    def stamp(
        cls, payload: EventPayload, *, run_id: str, thread_id: str, seq: int,
        ts: str | None = None,
    ) -> RunEvent:
        """Wrap `payload` in the envelope with its run, thread, sequence number and time."""
        event = cls(payload.type, run_id, thread_id, seq, ts or timestamp(), payload.data())
        event.encoded()  # fails here, not in a writer, and makes the text valid UTF-8
        return event

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

    def encoded(self) -> bytes:
        """Return the envelope as compact UTF-8 JSON, computed once."""
        cached = self._encoded
        if cached is None:
            cached = encode(self.to_wire())
            object.__setattr__(self, "_encoded", cached)
        return cached

    def to_json(self) -> str:
        """Return the envelope as compact JSON text."""
        return self.encoded().decode()

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> RunEvent:
        """Rebuild an event from its wire form (raises `ValueError` when malformed)."""
        try:
            kind = raw["type"]
            if kind not in EVENT_TYPES:
                raise ValueError(f"unknown event type {kind!r}")
            data = raw["data"]
            if not isinstance(data, dict):
                raise ValueError("the event's data is not an object")
            return cls(
                kind, str(raw["run_id"]), str(raw["thread_id"]), int(raw["seq"]),
                str(raw["ts"]), data,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed run event: {exc}") from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> RunEvent:
        """Rebuild an event from its JSON text; the text is kept as its encoding when exact."""
        raw = decode_object(text)
        event = cls.from_wire(raw)
        if isinstance(text, bytes) and raw.keys() == ENVELOPE_KEYS:
            object.__setattr__(event, "_encoded", text)
        return event
