"""The stand-in model decides each turn deterministically, from the conversation and its tools."""

from __future__ import annotations

import json
from typing import Any

import pytest

from toolwire.adapters.stand_in_model import Reply, ToolCall, reply_to, usage


def offered(*names: str) -> list[dict[str, Any]]:
    """Return the `tools` of a request that offers `names`."""
    return [{"type": "function", "function": {"name": name, "parameters": {}}} for name in names]


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


@pytest.mark.parametrize(("text", "calls"), [
    ("what is 6*7?", [ToolCall("calculator", '{"expression": "6*7"}')]),
    ("what time is it in Asia/Tokyo?", [ToolCall("clock", '{"tz": "Asia/Tokyo"}')]),
    ("what time is it?", [ToolCall("clock", "{}")]),
    ("what is 6*7, and the time in Europe/Paris?", [
        ToolCall("calculator", '{"expression": "6*7"}'),
        ToolCall("clock", '{"tz": "Europe/Paris"}')]),
    ('/call echo {"text": "hi"}\n/call forecast {"city": "Lyon"}', [
        ToolCall("echo", '{"text": "hi"}'), ToolCall("forecast", '{"city": "Lyon"}')]),
    ("/call echo {not json", [ToolCall("echo", "{not json")]),  # as a model may write it
])
def test_a_question_a_tool_answers_calls_it(text: str, calls: list[ToolCall]) -> None:
    tools = offered("calculator", "clock", "echo", "forecast")
    assert reply_to(user(text), tools) == Reply(calls=tuple(calls))


def test_only_offered_tools_are_called() -> None:
    assert reply_to(user("what is 6*7?"), offered("echo")) == Reply(text="You said: what is 6*7?")
    assert reply_to(user("/call nope {}"), offered("echo")) == Reply(text="You said: /call nope {}")


def test_text_parts_are_read_like_a_string() -> None:
    parts = [{"role": "user", "content": [{"type": "text", "text": "good "},
                                          {"type": "text", "text": "morning"}]}]
    assert reply_to(parts, []) == Reply(text="You said: good morning")


def test_tool_results_are_quoted_back_as_the_answer() -> None:
    messages = [*user("what is 6*7, and the time in Asia/Tokyo?"),
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "a", "type": "function",
                     "function": {"name": "calculator", "arguments": '{"expression": "6*7"}'}},
                    {"id": "b", "type": "function",
                     "function": {"name": "clock", "arguments": '{"tz": "Asia/Tokyo"}'}},
                    {"id": "c", "type": "function",
                     "function": {"name": "echo", "arguments": '{"text": 1}'}}]},
                {"role": "tool", "tool_call_id": "a",
                 "content": json.dumps({"status": "ok", "result": 42})},
                {"role": "tool", "tool_call_id": "b", "content": json.dumps(
                    {"status": "ok", "result": {"iso": "2026-01-01T09:00:00+09:00",
                                                "tz": "Asia/Tokyo"}})},
                {"role": "tool", "tool_call_id": "c", "content": json.dumps(
                    {"status": "error", "error": {"type": "invalid_arguments",
                                                  "message": "text: not a string"}})}]
    assert reply_to(messages, offered("calculator", "clock", "echo")) == Reply(text=(
        "6*7 = 42; it is 2026-01-01T09:00:00+09:00 (Asia/Tokyo); echo failed: text: not a string"))


def test_usage_counts_prompt_and_completion_tokens() -> None:
    used = usage(user("what is 6*7?"), Reply(text="6*7 = 42"))
    assert used == {"prompt_tokens": 6, "completion_tokens": 2, "total_tokens": 8}
