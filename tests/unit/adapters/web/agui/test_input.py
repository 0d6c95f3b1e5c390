"""Reading an AG-UI RunAgentInput as a chat, and every way the input can be refused."""

from __future__ import annotations

from typing import Any

import pytest

from toolwire.adapters.web.agui.input import chat_of_input
from toolwire.adapters.web.errors import WireError


def run_input(*messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"threadId": "t-1", "runId": "q-1", "messages": list(messages), **fields}


def user(content: Any, id_: str = "m1") -> dict[str, Any]:
    return {"id": id_, "role": "user", "content": content}


def test_the_last_user_message_is_the_chat_and_run_id_the_request_id() -> None:
    chat = chat_of_input(run_input(
        user("first", "m1"), {"id": "m2", "role": "assistant", "content": "ok"},
        user("second", "m3"), {"id": "m4", "role": "system", "content": "be brief"},
        tools=[{"name": "t", "description": "d"}], state={"x": 1}))
    assert (chat.message, chat.thread_id, chat.request_id) == ("second", "t-1", "q-1")


def test_text_parts_are_joined_by_lines() -> None:
    chat = chat_of_input(run_input(user([{"type": "text", "text": "a"},
                                         {"type": "text", "text": "b"}])))
    assert chat.message == "a\nb"


def test_snake_case_fields_are_read_too_as_the_package_allows() -> None:
    chat = chat_of_input({"thread_id": "t", "run_id": "q", "messages": [user("hi")]})
    assert (chat.thread_id, chat.request_id) == ("t", "q")


@pytest.mark.parametrize(("raw", "words"), [
    ([1, 2], "JSON object"),
    (run_input(), "no user message"),
    (run_input({"id": "a", "role": "assistant", "content": "x"}), "no user message"),
    (run_input(user("   ")), "empty"),
    (run_input(user([{"type": "image", "source": {"type": "url", "value": "http://x/i.png"}}])),
     "only text content is supported, not image"),
    (run_input(user("hi"), threadId=""), "threadId must be 1 to 200"),
    (run_input(user("hi"), runId="q" * 201), "runId must be 1 to 200"),
])
def test_unusable_input_is_an_invalid_message_that_says_why(raw: Any, words: str) -> None:
    with pytest.raises(WireError) as caught:
        chat_of_input(raw)
    assert caught.value.code == "invalid_message"
    assert words in caught.value.message


@pytest.mark.parametrize(("raw", "field"), [
    ({"runId": "q", "messages": []}, "threadId: Field required"),
    ({"threadId": "t", "runId": "q", "messages": [{"id": "m", "role": "wizard"}]},
     "messages.0: Input tag 'wizard'"),
    ({"threadId": "t", "runId": "q", "messages": "hello"}, "messages: Input should be"),
])
def test_input_that_is_not_a_run_agent_input_names_the_field(raw: dict[str, Any],
                                                             field: str) -> None:
    with pytest.raises(WireError) as caught:
        chat_of_input(raw)
    assert caught.value.code == "invalid_message"
    assert caught.value.message.startswith("invalid RunAgentInput: ")
    assert field in caught.value.message
