"""The thread's earlier turns as chat-completions messages, sent before the new message."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from toolwire.services.threads.models import ToolCallRecord, Turn


def history_messages(history: Sequence[Turn]) -> list[dict[str, Any]]:
    """Return each turn as `user`, then `assistant` with its tool calls and their `tool`
    results, then the `assistant` answer (or a note of how the run failed)."""
    messages: list[dict[str, Any]] = []
    for turn in history:
        messages.append({"role": "user", "content": turn.message})
        if turn.tool_calls:
            messages.append({"role": "assistant", "content": None,
                             "tool_calls": list(_calls(turn.tool_calls))})
            messages.extend({"role": "tool", "tool_call_id": call.call_id,
                             "content": _result(call)} for call in turn.tool_calls)
        messages.append({"role": "assistant", "content": _answer(turn)})
    return messages


def _calls(calls: Iterable[ToolCallRecord]) -> Iterable[dict[str, Any]]:
    for call in calls:
        yield {"id": call.call_id, "type": "function", "function": {
            "name": call.tool, "arguments": json.dumps(call.args, ensure_ascii=False)}}


def _result(call: ToolCallRecord) -> str:
    body: dict[str, Any] = {"status": call.status}
    if call.status == "ok":
        body["result"] = call.result
    elif call.error is not None:
        body["error"] = call.error.to_dict()
    return json.dumps(body, ensure_ascii=False)


def _answer(turn: Turn) -> str:
    if turn.status == "ok":
        return turn.answer or ""
    reason = f": {turn.error.message}" if turn.error is not None else ""
    return f"(this request ended {turn.status} before an answer{reason})"
