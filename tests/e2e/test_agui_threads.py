"""AG-UI and threads: a client's own `messages` are the history, else the stored thread is."""

from __future__ import annotations

from typing import Any

from ag_ui.core import RunStartedEvent, TextMessageContentEvent

from tests.agui_conformance import as_event
from tests.e2e.agui_client import Client, agui_socket, ends_run, events_until, post_agui, read_sse
from tests.e2e.conftest import token_for


def answer_of(events: list[Any]) -> str:
    return "".join(e.delta for e in events if isinstance(e, TextMessageContentEvent))


def run_input(messages: list[dict[str, Any]], run_id: str, thread_id: str = "t") -> dict[str, Any]:
    return {"threadId": thread_id, "runId": run_id, "state": {}, "tools": [], "context": [],
            "forwardedProps": {}, "messages": messages}


def user(text: str, n: int) -> dict[str, Any]:
    return {"id": f"u{n}", "role": "user", "content": text}


async def _answer(server: Client, token: str, body: dict[str, Any]) -> str:
    return answer_of([e.event for e in await read_sse(await post_agui(server, token, body))])


async def test_only_the_new_message_continues_the_stored_thread(server: Client) -> None:
    token = await token_for(server, "ada")
    assert await _answer(server, token, run_input([user("what is 6*7?", 1)], "q1")) == "6*7 = 42"
    assert await _answer(server, token, run_input([user("ans*2", 2)], "q2")) == "42*2 = 84"


async def test_earlier_messages_are_the_history_instead_of_the_stored_thread(
    server: Client,
) -> None:
    token = await token_for(server, "ada")
    await _answer(server, token, run_input([user("what is 6*7?", 1)], "q1"))
    messages = [
        {"id": "s", "role": "system", "content": "be brief"},
        user("what is 2+3?", 1),
        {"id": "a1", "role": "assistant", "toolCalls": [{"id": "c1", "type": "function",
         "function": {"name": "calculator", "arguments": '{"expression": "2+3"}'}}]},
        {"id": "t1", "role": "tool", "toolCallId": "c1", "content": "5"},
        {"id": "a2", "role": "assistant", "content": "2+3 = 5"},
        user("hello", 2), {"id": "a3", "role": "assistant", "content": "hi"},
        user("ans*10", 3),
    ]
    assert await _answer(server, token, run_input(messages, "q2")) == "5*10 = 50"
    listing = run_input([*messages[:-1], user("/history", 4)], "q3")
    assert await _answer(server, token, listing) == "1. what is 2+3?\n2. hello"


async def test_the_agui_socket_reads_the_history_too(server: Client) -> None:
    ws = await agui_socket(server, "ada")
    messages = [user("what is 1+2?", 1), {"id": "a", "role": "assistant", "content": "3"},
                user("ans*3", 2)]
    await ws.send_json(run_input(messages, "q1", thread_id="sock"))
    events = await events_until(ws, ends_run())
    assert answer_of(events) == "3*3 = 9"
    await ws.close()


async def test_a_busy_thread_is_a_409_conflict(server: Client) -> None:
    token = await token_for(server, "ada")
    sleeping = await post_agui(server, token, run_input([user('/call sleep {"seconds": 30}', 1)],
                                                        "q1"))
    head = await read_sse(sleeping, stop_after=1)
    busy = await post_agui(server, token, run_input([user("hi", 2)], "q2"))
    body = await busy.json()
    assert (busy.status, body["error"]) == (409, "conflict")
    assert as_event(head[0].event, RunStartedEvent).run_id in body["message"]
    sleeping.close()
