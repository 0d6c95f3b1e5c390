"""A thread's turns and summaries, with the JSON form they have on the wire and in stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from toolwire.services.events import ErrorInfo, RunStatus
from toolwire.services.wire_json import decode_object, encode

TITLE_CHARS: Final = 80
"""A thread's title is its first message cut to this many characters."""


def title_of(message: str) -> str:
    """Return the title a thread gets from its first message (whitespace folded)."""
    # Folding reads a bounded head: a 1 MiB message costs what an 80-character one does.
    head = message[:TITLE_CHARS * 8]
    return " ".join(head.split())[:TITLE_CHARS]


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """One tool call of a turn: its arguments and how it ended (`result` cut to a bound)."""

    call_id: str
    tool: str
    args: dict[str, Any]
    status: str
    result: Any = None
    error: ErrorInfo | None = None

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON-ready form."""
        out: dict[str, Any] = {"call_id": self.call_id, "tool": self.tool, "args": self.args,
                               "status": self.status}
        if self.status == "ok":
            out["result"] = self.result
        elif self.error is not None:
            out["error"] = self.error.to_dict()
        return out

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> ToolCallRecord:
        """Rebuild a record from its JSON form."""
        error = raw.get("error")
        return cls(
            call_id=str(raw["call_id"]), tool=str(raw["tool"]), args=dict(raw.get("args") or {}),
            status=str(raw["status"]), result=raw.get("result"),
            error=ErrorInfo(str(error["type"]), str(error["message"])) if error else None,
        )


@dataclass(frozen=True, slots=True)
class Turn:
    """What one ended run added to its thread: the message, the outcome and the tool calls."""

    run_id: str
    message: str
    status: RunStatus
    started_at: str
    ended_at: str
    answer: str | None = None
    error: ErrorInfo | None = None
    tool_calls: tuple[ToolCallRecord, ...] = ()
    _encoded: bytes | None = field(default=None, compare=False, repr=False)

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON-ready form (what `GET /threads/{thread_id}` lists)."""
        out: dict[str, Any] = {"run_id": self.run_id, "message": self.message,
                               "status": self.status}
        if self.status == "ok":
            out["answer"] = self.answer
        elif self.error is not None:
            out["error"] = self.error.to_dict()
        out["tool_calls"] = [call.to_wire() for call in self.tool_calls]
        out["started_at"] = self.started_at
        out["ended_at"] = self.ended_at
        return out

    def encoded(self) -> bytes:
        """Return the compact JSON text, computed once (stores keep it, bounds count it)."""
        cached = self._encoded
        if cached is None:
            # An exact-size copy: a kept turn must not keep the encoder's spare buffer (for a
            # 2 MB turn that was five times its size).
            cached = bytes(memoryview(encode(self.to_wire())))
            object.__setattr__(self, "_encoded", cached)
        return cached

    @property
    def size(self) -> int:
        """Return the size in bytes of the turn's JSON text."""
        return len(self.encoded())

    @classmethod
    def from_json(cls, text: str | bytes) -> Turn:
        """Rebuild a turn from its JSON text (raises `ValueError` when malformed)."""
        raw = decode_object(text)
        try:
            error = raw.get("error")
            status = raw["status"]
            if status not in ("ok", "error", "cancelled"):
                raise ValueError(f"unknown turn status {status!r}")
            turn = cls(
                run_id=str(raw["run_id"]), message=str(raw["message"]), status=status,
                started_at=str(raw["started_at"]), ended_at=str(raw["ended_at"]),
                answer=raw.get("answer"),
                error=ErrorInfo(str(error["type"]), str(error["message"])) if error else None,
                tool_calls=tuple(ToolCallRecord.from_wire(c) for c in raw.get("tool_calls", ())),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed turn: {exc}") from exc
        if isinstance(text, bytes):
            object.__setattr__(turn, "_encoded", text)
        return turn


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    """One entry of a user's list of threads."""

    thread_id: str
    title: str
    created_at: str
    updated_at: str
    turns: int

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON-ready form."""
        return {"thread_id": self.thread_id, "title": self.title,
                "created_at": self.created_at, "updated_at": self.updated_at,
                "turns": self.turns}


@dataclass(frozen=True, slots=True)
class ThreadDetail:
    """A thread with its turns, oldest first, and the run going on it (if any)."""

    summary: ThreadSummary
    turns: tuple[Turn, ...]
    active_run_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON-ready form: the summary's fields, `turns` listed in full."""
        out = self.summary.to_wire()
        out["turn_count"] = out.pop("turns")
        out["turns"] = [turn.to_wire() for turn in self.turns]
        out["active_run_id"] = self.active_run_id
        return out


@dataclass(frozen=True, slots=True)
class ThreadPage:
    """Some of a user's threads, most recently active first; `next` continues the list."""

    threads: tuple[ThreadSummary, ...]
    next: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON-ready form."""
        return {"threads": [thread.to_wire() for thread in self.threads], "next": self.next}
