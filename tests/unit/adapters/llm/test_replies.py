"""Parsing chat-completions bodies, and turning tool outcomes back into messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from toolwire.adapters.llm import ChatReply, MalformedReplyError, ModelToolCall
from toolwire.adapters.llm.openai_agent import parse_arguments, tool_content
from toolwire.adapters.llm.replies import parse_reply
from toolwire.services.events import ErrorInfo
from toolwire.services.tools.calls import ToolOutcome, UnparsedArguments


def body(message: dict[str, Any]) -> dict[str, Any]:
    return {"id": "x", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


def test_a_text_reply_has_content_and_no_tool_calls() -> None:
    reply = parse_reply(body({"role": "assistant", "content": "Hello."}))
    assert reply == ChatReply("Hello.", ())


def test_tool_calls_keep_their_id_name_and_raw_arguments() -> None:
    reply = parse_reply(
        body(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "calculator", "arguments": '{"expression":"6*7"}'},
                    },
                ],
            }
        )
    )
    assert reply.content is None
    assert reply.tool_calls == (ModelToolCall("call_1", "calculator", '{"expression":"6*7"}'),)
    assert reply.as_message() == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "calculator", "arguments": '{"expression":"6*7"}'},
            },
        ],
    }


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "no list 'choices'"),
        ({"error": "x"}, "no list 'choices'"),
        ({"choices": []}, "without choices"),
        ({"choices": [{"text": "legacy completion"}]}, "no dict 'message'"),
        (body({"content": 7}), "content is not a string"),
        (body({"content": None}), "neither text nor tool calls"),
        (body({"content": None, "tool_calls": {"id": "a"}}), "tool_calls is not a list"),
        (
            body({"content": None, "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}),
            "tool_calls[0] has no str 'id'",
        ),
        (
            body({"content": None, "tool_calls": [{"id": "a", "function": {"name": "f"}}]}),
            "tool_calls[0].function has no str 'arguments'",
        ),
    ],
)
def test_malformed_bodies_say_what_is_missing(data: Any, problem: str) -> None:
    with pytest.raises(MalformedReplyError) as info:
        parse_reply(data)
    assert problem in str(info.value)


def test_model_arguments_are_parsed_or_marked_unparsed() -> None:
    assert parse_arguments('{"expression": "1+1"}') == {"expression": "1+1"}
    assert parse_arguments("  ") == {}
    broken = parse_arguments('{"expression": ')
    assert isinstance(broken, UnparsedArguments) and "not JSON" in broken.problem
    listed = parse_arguments("[1, 2]")
    assert isinstance(listed, UnparsedArguments) and "not a JSON object" in listed.problem


def test_tool_outcomes_become_json_for_the_model() -> None:
    ok = ToolOutcome(tool="calculator", call_id="c_1", status="ok", duration_ms=1.0, result=42)
    failed = ToolOutcome(
        tool="nope",
        call_id="c_2",
        status="error",
        duration_ms=1.0,
        error=ErrorInfo("unknown_tool", "no tool"),
    )
    assert json.loads(tool_content(ok)) == {"status": "ok", "result": 42}
    assert json.loads(tool_content(failed)) == {
        "status": "error",
        "error": {"type": "unknown_tool", "message": "no tool"},
    }
