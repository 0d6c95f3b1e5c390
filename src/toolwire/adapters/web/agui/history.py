"""AG-UI `messages` before the last user message, read as a thread's earlier turns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ag_ui.core import AssistantMessage, Message, TextPart, ToolMessage, UserMessage

from toolwire.services.events import ErrorInfo
from toolwire.services.threads.models import ToolCallRecord, Turn


def turns_of_messages(messages: Sequence[Message]) -> tuple[Turn, ...]:
    """Return one turn per user message: its text, the assistant's tool calls with their
    results, and the assistant's last text as the answer. Messages before the first user
    message (system, developer) and other kinds are not part of any turn."""
    turns: list[Turn] = []
    current: _Turn | None = None
    for message in messages:
        if isinstance(message, UserMessage):
            if current is not None:
                turns.append(current.build())
            current = _Turn(message.id, _text(message.content))
        elif current is None:
            continue
        elif isinstance(message, AssistantMessage):
            if message.content:
                current.answer = message.content
            for call in message.tool_calls or ():
                current.calls[call.id] = (call.function.name, _args(call.function.arguments))
        elif isinstance(message, ToolMessage):
            current.results[message.tool_call_id] = (_text(message.content), message.error)
    if current is not None:
        turns.append(current.build())
    return tuple(turns)


class _Turn:
    __slots__ = ("answer", "calls", "message", "message_id", "results")

    def __init__(self, message_id: str, message: str) -> None:
        self.message_id = message_id
        self.message = message
        self.answer = ""
        self.calls: dict[str, tuple[str, dict[str, Any]]] = {}
        self.results: dict[str, tuple[str, str | None]] = {}

    def build(self) -> Turn:
        records = []
        for call_id, (tool, args) in self.calls.items():
            content, error = self.results.get(call_id, ("", "no result was given"))
            records.append(ToolCallRecord(
                call_id=call_id, tool=tool, args=args, status="error" if error else "ok",
                result=None if error else _json_or_text(content),
                error=ErrorInfo("tool_error", error) if error else None))
        return Turn(run_id=self.message_id, message=self.message, status="ok",
                    started_at="", ended_at="", answer=self.answer, tool_calls=tuple(records))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part.text for part in content if isinstance(part, TextPart))


def _args(arguments: str) -> dict[str, Any]:
    value = _json_or_text(arguments)
    return value if isinstance(value, dict) else {"arguments": arguments}


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
