"""Putting a streamed turn together from its chunks, and turning outcomes back into messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types.chat import ChatCompletionChunk

from toolwire.adapters.llm import MalformedReplyError, ModelToolCall, ModelTurn
from toolwire.adapters.llm.openai_agent import tool_content
from toolwire.adapters.llm.turn import TurnBuilder
from toolwire.services.events import ErrorInfo, ToolCompleted


def chunk(delta: dict[str, Any], choices: bool = True) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate({
        "id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}] if choices else []})


def piece(index: int, **function: str) -> dict[str, Any]:
    return {"tool_calls": [{"index": index, "function": function}]}


def test_text_deltas_are_returned_as_they_come_and_joined_at_the_end() -> None:
    builder = TurnBuilder()
    added = [builder.add(chunk({"content": text})) for text in ("Hel", "lo", "")]
    assert added == ["Hel", "lo", ""]
    assert builder.add(chunk({}, choices=False)) == ""  # a usage-only chunk
    assert builder.build() == ModelTurn("Hello")


def test_interleaved_tool_call_pieces_are_put_together_by_index() -> None:
    builder = TurnBuilder()
    builder.add(chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                                       "function": {"name": "echo", "arguments": '{"te'}}]}))
    builder.add(chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                                       "function": {"name": "clock", "arguments": ""}}]}))
    builder.add(chunk(piece(1, arguments='xt": "hi"}')))
    builder.add(chunk(piece(0, arguments="{}")))
    turn = builder.build()
    assert turn.tool_calls == (ModelToolCall("call_a", "clock", "{}"),
                               ModelToolCall("call_b", "echo", '{"text": "hi"}'))
    assert turn.as_message() == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "clock", "arguments": "{}"}},
        {"id": "call_b", "type": "function",
         "function": {"name": "echo", "arguments": '{"text": "hi"}'}}]}


def test_a_tool_call_without_an_id_gets_one_and_one_without_a_name_is_malformed() -> None:
    builder = TurnBuilder()
    builder.add(chunk(piece(0, name="clock", arguments="{}")))
    assert builder.build().tool_calls[0].id == "call_0"
    builder.add(chunk(piece(1, arguments="{}")))
    with pytest.raises(MalformedReplyError, match="tool call 1 without a name"):
        builder.build()


def test_tool_outcomes_become_json_for_the_model() -> None:
    ok = ToolCompleted(tool="calculator", call_id="c_1", status="ok", duration_ms=1.0, result=42)
    failed = ToolCompleted(tool="nope", call_id="c_2", status="error", duration_ms=1.0,
                           error=ErrorInfo("unknown_tool", "no tool"))
    assert json.loads(tool_content(ok)) == {"status": "ok", "result": 42}
    assert json.loads(tool_content(failed)) == {
        "status": "error", "error": {"type": "unknown_tool", "message": "no tool"}}
