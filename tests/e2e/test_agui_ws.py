"""`/ws?protocol=ag-ui`: RunAgentInput frames in, strictly valid, well-ordered AG-UI out."""

from __future__ import annotations

import json

import pytest
from ag_ui.core import (
    BaseEvent,
    CustomEvent,
    EventType,
    RunErrorEvent,
    RunStartedEvent,
    TextMessageContentEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)

from tests.agui_conformance import as_event, by_run, check_run_order, outcome, toolwire_meta
from tests.e2e.agui_client import (
    Client,
    agui_socket,
    ends_run,
    events_until,
    is_type,
    next_event,
    run_input,
)
from tests.e2e.conftest import ServerFactory, completed, connect, receive_until, token_for

CALC = '/call calculator {"expression": "6*7"}'


async def test_a_run_with_a_tool_call_is_valid_ordered_agui(server: Client) -> None:
    ws = await agui_socket(server, "ada")
    await ws.send_json(run_input(f"{CALC}\n/call calculator {{\"expression\": \"1/0\"}}",
                                 run_id="q-7", thread_id="t-7"))
    events = await events_until(ws, ends_run())
    check_run_order(events)
    started, finished = as_event(events[0], RunStartedEvent), events[-1]
    assert started.input is not None
    assert (started.thread_id, started.input.run_id) == ("t-7", "q-7")
    assert finished.type is EventType.RUN_FINISHED
    assert outcome(finished) == "success"
    results = [e for e in events if isinstance(e, ToolCallResultEvent)]
    assert [(r.content, toolwire_meta(r)["status"]) for r in results] == [
        ("42", "ok"), ("division by zero", "error")]
    starts = [e for e in events if isinstance(e, ToolCallStartEvent)]
    assert [s.tool_call_name for s in starts] == ["calculator", "calculator"]
    answer = "".join(e.delta for e in events if isinstance(e, TextMessageContentEvent))
    assert answer.startswith("42\ncalculator failed: division by zero")
    seqs = [toolwire_meta(e)["seq"] for e in events]
    assert sorted(set(seqs)) == list(range(1, max(seqs) + 1))
    await ws.close()


async def test_a_failing_run_ends_with_run_error(start_server: ServerFactory) -> None:
    server = await start_server(runs={"max_tool_calls": 0})
    ws = await agui_socket(server, "ada")
    await ws.send_json(run_input(CALC))
    events = await events_until(ws, ends_run())
    check_run_order(events)
    assert events[-1].type is EventType.RUN_ERROR
    assert as_event(events[-1], RunErrorEvent).code == "limit_exceeded"
    await ws.close()


async def test_cancel_ends_the_run_with_the_cancelled_outcome(server: Client) -> None:
    ws = await agui_socket(server, "ada")
    await ws.send_json(run_input('/call sleep {"seconds": 30}'))
    events = await events_until(ws, is_type(EventType.TOOL_CALL_END))
    await ws.send_json({"type": "cancel", "run_id": as_event(events[0], RunStartedEvent).run_id})
    events += await events_until(ws, ends_run())
    check_run_order(events)
    result = next(e for e in events if e.type is EventType.TOOL_CALL_RESULT)
    assert toolwire_meta(result)["status"] == "cancelled"
    assert events[-1].type is EventType.RUN_FINISHED
    assert outcome(events[-1]) == "cancelled"
    await ws.close()


async def test_concurrent_runs_on_one_socket_are_each_valid(server: Client) -> None:
    ws = await agui_socket(server, "ada")
    # Two threads: one thread takes one run at a time (threads.on_busy).
    await ws.send_json(run_input('/call sleep {"seconds": 0.2}\n' + CALC, run_id="q-a",
                                 thread_id="t-a"))
    await ws.send_json(run_input(CALC, run_id="q-b", thread_id="t-b"))
    events: list[BaseEvent] = []
    while sum(e.type in (EventType.RUN_FINISHED, EventType.RUN_ERROR) for e in events) < 2:
        events.append(await next_event(ws))
    runs = by_run(events)
    assert len(runs) == 2
    for run in runs.values():
        check_run_order(run)
    await ws.close()


async def test_resume_on_a_new_socket_continues_the_stream_exactly(server: Client) -> None:
    first = await agui_socket(server, "ada")
    await first.send_json(run_input('/call echo {"text": "a"}\n/call sleep {"seconds": 0.5}'))
    seen = await events_until(first, is_type(EventType.TOOL_CALL_RESULT))
    await first.close()
    run_id, last_seq = as_event(seen[0], RunStartedEvent).run_id, toolwire_meta(seen[-1])["seq"]
    second = await agui_socket(server, "ada")
    await second.send_json({"type": "resume", "run_id": run_id, "after_seq": last_seq})
    rest = await events_until(second, ends_run())
    check_run_order(seen + rest)
    assert toolwire_meta(rest[0])["seq"] == last_seq + 1
    await second.close()


async def test_an_agui_run_reaches_the_users_toolwire_sockets_and_no_one_else(
    server: Client,
) -> None:
    ada_agui = await agui_socket(server, "ada")
    ada_plain = await connect(server, "ada")
    bob_agui = await agui_socket(server, "bob")
    await ada_agui.send_json(run_input(CALC))
    events = await events_until(ada_agui, ends_run())
    frames = await receive_until(ada_plain, completed)
    assert [f["seq"] for f in frames] == sorted({toolwire_meta(e)["seq"] for e in events})
    assert frames[0]["data"]["request_id"] == "q-1"
    await bob_agui.send_json({"type": "ping"})
    first = await next_event(bob_agui)  # the first frame bob gets: nothing of ada's run
    pong = as_event(first, CustomEvent)
    assert (pong.type, pong.name) == (EventType.CUSTOM, "pong")
    for ws in (ada_agui, ada_plain, bob_agui):
        await ws.close()


@pytest.mark.parametrize(("frame", "code", "request_id"), [
    ("not json", "invalid_json", None),
    ("[1]", "invalid_message", None),
    (json.dumps({"threadId": "t", "runId": "q-2", "messages": []}), "invalid_message", "q-2"),
    (json.dumps({"runId": "q-3", "messages": []}), "invalid_message", "q-3"),
    (json.dumps({"type": "RUN_STARTED"}), "unknown_type", None),
    (json.dumps({"type": "resume", "run_id": "r_nope", "after_seq": 0}), "not_found", None),
    ('{"threadId": "t", "runId": "q-4", "messages": [{"id": "m", "role": "user", '
     '"content": "\\ud800"}]}', "invalid_message", None),  # a lone surrogate: refused
])
async def test_a_refused_frame_is_a_run_error_and_the_socket_stays(
    server: Client, frame: str, code: str, request_id: str | None,
) -> None:
    ws = await agui_socket(server, "ada")
    await ws.send_str(frame)
    error = as_event(await next_event(ws), RunErrorEvent)
    assert (error.type, error.code) == (EventType.RUN_ERROR, code)
    assert error.message
    assert toolwire_meta(error).get("request_id") == request_id
    await ws.send_json(run_input("hello"))
    events = await events_until(ws, ends_run())
    check_run_order(events)
    await ws.close()


async def test_binary_frames_and_rate_limits_are_run_errors(start_server: ServerFactory) -> None:
    server = await start_server(limits={"runs_per_user": 1})
    ws = await agui_socket(server, "ada")
    await ws.send_bytes(b"{}")
    assert as_event(await next_event(ws), RunErrorEvent).code == "invalid_message"
    await ws.send_json(run_input('/call sleep {"seconds": 30}', run_id="q-1"))
    await events_until(ws, is_type(EventType.RUN_STARTED))
    await ws.send_json(run_input("hi", run_id="q-2"))
    refused = as_event((await events_until(ws, is_type(EventType.RUN_ERROR)))[-1], RunErrorEvent)
    assert (refused.type, refused.code) == (EventType.RUN_ERROR, "rate_limited")
    assert toolwire_meta(refused) == {"request_id": "q-2"}
    await ws.close()


async def test_an_unknown_protocol_is_refused_before_the_upgrade(server: Client) -> None:
    token = await token_for(server, "ada")
    response = await server.get("/ws?protocol=soap", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 400
    assert "unknown protocol 'soap'" in await response.text()


async def test_no_token_is_401_for_agui_too(server: Client) -> None:
    response = await server.get("/ws?protocol=ag-ui")
    assert response.status == 401
