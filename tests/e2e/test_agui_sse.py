"""`POST /agui`: a RunAgentInput in, a strictly valid AG-UI event stream out, resumable."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from typing import Any

import aiohttp
import pytest
from ag_ui.core import EventType, RunErrorEvent, RunStartedEvent, ToolCallResultEvent

from tests.agui_conformance import as_event, check_run_order, outcome, toolwire_meta
from tests.e2e.agui_client import (
    Client,
    SseEvent,
    SseReader,
    post_agui,
    read_sse,
    run_input,
)
from tests.e2e.helpers import (
    ServerFactory,
    completed,
    connect,
    receive,
    receive_until,
    small_window_socket,
    token_for,
)
from tests.support import eventually
from toolwire.adapters.web.app import graceful_shutdown
from toolwire.adapters.web.state import STATE
from toolwire.services.events import RunEvent

CALC = '/call calculator {"expression": "6*7"}'
SLOW = '/call echo {"text": "a"}\n/call sleep {"seconds": 0.6}\n/call echo {"text": "b"}'


def kinds(events: list[SseEvent]) -> list[str]:
    return [e.event.type.value for e in events]


async def test_a_run_streams_as_valid_ordered_agui_with_resumable_ids(server: Client) -> None:
    token = await token_for(server, "ada")
    response = await post_agui(server, token, run_input(CALC + '\n/call calculator {"x": 1}'))
    assert response.headers["Cache-Control"] == "no-cache"
    events = await read_sse(response)
    check_run_order([e.event for e in events])
    run_id = as_event(events[0].event, RunStartedEvent).run_id
    assert [e.id for e in events] == [
        f"{run_id}:{toolwire_meta(e.event)['seq']}:{i}"
        for i, e in _index_within_seq(events)]
    results = [e.event for e in events if isinstance(e.event, ToolCallResultEvent)]
    assert [toolwire_meta(r)["status"] for r in results] == ["ok", "error"]
    assert "expression" in results[1].content  # the invalid argument is named
    assert events[-1].event.type is EventType.RUN_FINISHED


def _index_within_seq(events: list[SseEvent]) -> list[tuple[int, SseEvent]]:
    out, seq, index = [], None, 0
    for event in events:
        this = toolwire_meta(event.event)["seq"]
        index = index + 1 if this == seq else 0
        seq = this
        out.append((index, event))
    return out


async def test_a_failing_run_ends_with_run_error(start_server: ServerFactory) -> None:
    server = await start_server(runs={"max_tool_calls": 0})
    events = await read_sse(await post_agui(server, await token_for(server, "ada"),
                                            run_input(CALC)))
    check_run_order([e.event for e in events])
    assert events[-1].event.type is EventType.RUN_ERROR
    assert as_event(events[-1].event, RunErrorEvent).code == "limit_exceeded"


async def test_a_cancel_from_a_socket_ends_the_stream_cancelled(server: Client) -> None:
    token = await token_for(server, "ada")
    stream = SseReader(await post_agui(server, token, run_input('/call sleep {"seconds": 30}')))
    head = await stream.read(1)
    ws = await connect(server, "ada")
    started = as_event(head[0].event, RunStartedEvent)
    await ws.send_json({"type": "cancel", "run_id": started.run_id})
    events = head + await stream.read()
    check_run_order([e.event for e in events])
    assert events[-1].event.type is EventType.RUN_FINISHED
    assert outcome(events[-1].event) == "cancelled"
    await ws.close()


@pytest.mark.parametrize("cut", [1, 3, 7, 9, 12])  # after RUN_STARTED, inside groups, ...
async def test_last_event_id_resumes_exactly_after_the_last_event_seen(
    server: Client, cut: int,
) -> None:
    token = await token_for(server, "ada")
    body = run_input(SLOW, run_id=f"q-cut-{cut}")
    first = await post_agui(server, token, body)
    head = await read_sse(first, stop_after=cut)
    first.close()
    last_id = head[-1].id
    assert last_id is not None
    rest = await read_sse(await post_agui(server, token, body, **{"Last-Event-ID": last_id}))
    whole = await read_sse(await post_agui(server, token, body))  # the same runId: a replay
    assert [e.id for e in head + rest] == [e.id for e in whole]
    assert [e.event for e in head + rest] == [e.event for e in whole]
    check_run_order([e.event for e in whole])


async def test_the_same_run_id_replays_that_run_instead_of_starting_another(
    server: Client,
) -> None:
    token = await token_for(server, "ada")
    ws = await connect(server, "ada")
    first = await read_sse(await post_agui(server, token, run_input(CALC, run_id="q-same")))
    again = await read_sse(await post_agui(server, token, run_input(CALC, run_id="q-same")))
    assert [e.id for e in again] == [e.id for e in first]
    frames = await receive_until(ws, completed)
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}  # one run reached the socket, not two
    assert {f["run_id"] for f in frames} == {as_event(first[0].event, RunStartedEvent).run_id}
    await ws.close()


async def test_isolation_another_users_socket_sees_nothing(server: Client) -> None:
    bob = await connect(server, "bob")
    events = await read_sse(await post_agui(server, await token_for(server, "ada"),
                                            run_input(CALC)))
    await bob.send_json({"type": "ping"})
    assert await receive(bob) == {"type": "pong"}
    adas_id = events[0].id
    assert adas_id is not None
    other = await post_agui(server, await token_for(server, "bob"), run_input(CALC),
                            **{"Last-Event-ID": adas_id})
    assert other.status == 404
    assert (await other.json())["error"] == "not_found"  # as for an unknown run
    await bob.close()


BAD_REQUESTS: list[tuple[Any, dict[str, str], int, str]] = [
    ("{not json", {}, 400, "invalid_json"),
    ({"threadId": "t", "runId": "q", "messages": []}, {}, 400, "invalid_message"),
    ({"runId": "q", "messages": [{"id": "m", "role": "user", "content": "hi"}]}, {}, 400,
     "invalid_message"),
    (run_input("hi"), {"Last-Event-ID": "garbage"}, 400, "invalid_message"),
    (run_input("hi"), {"Last-Event-ID": "r_nope:3:0"}, 404, "not_found"),
    ("x" * 2048, {}, 413, "message_too_large"),
    ('{"threadId": "t", "runId": "q", "messages": [{"id": "m", "role": "user", '
     '"content": "\\ud800"}]}', {}, 400, "invalid_message"),  # a lone surrogate
]


@pytest.mark.parametrize(("body", "headers", "status", "code"), BAD_REQUESTS)
async def test_a_bad_request_is_an_http_error_naming_the_problem(
    start_server: ServerFactory, body: Any, headers: dict[str, str], status: int, code: str,
) -> None:
    server = await start_server(ws={"max_message_bytes": 1024})
    response = await post_agui(server, await token_for(server, "ada"), body, **headers)
    assert response.status == status
    error = await response.json()
    assert error["error"] == code
    assert error["message"]
    assert "Traceback" not in error["message"]


async def test_no_token_or_a_bad_one_is_401(server: Client) -> None:
    assert (await post_agui(server, None, run_input("hi"))).status == 401
    assert (await post_agui(server, "not-a-jwt", run_input("hi"))).status == 401


async def test_limits_apply_runs_streams_and_origins(start_server: ServerFactory) -> None:
    server = await start_server(limits={"runs_per_user": 1, "sockets_per_user": 2},
                                auth={"allowed_origins": ["http://good.example"]})
    token = await token_for(server, "ada")
    sleeping = await post_agui(server, token, run_input('/call sleep {"seconds": 30}'))
    await read_sse(sleeping, stop_after=1)
    refused = await post_agui(server, token, run_input("hi", run_id="q-2"))
    assert (refused.status, (await refused.json())["error"]) == (429, "rate_limited")
    ws = await connect(server, "ada")  # the stream and this socket use both slots
    third = await post_agui(server, token, run_input("hi", run_id="q-3"))
    assert third.status == 429
    assert "limits.sockets_per_user" in await third.text()
    evil = await post_agui(server, token, run_input("hi"), Origin="http://evil.example")
    assert evil.status == 403
    sleeping.close()
    await ws.close()


async def test_with_cancel_on_disconnect_a_client_that_leaves_cancels_its_run(
    start_server: ServerFactory,
) -> None:
    server = await start_server(runs={"cancel_on_disconnect": True}, ws={"heartbeat_s": 0.1})
    token = await token_for(server, "ada")
    response = await post_agui(server, token, run_input('/call sleep {"seconds": 30}'))
    run_id = as_event((await read_sse(response, stop_after=1))[0].event, RunStartedEvent).run_id
    response.close()
    await asyncio.sleep(0.5)  # a few keep-alives: the server notices the client left
    ws = await connect(server, "ada")
    await ws.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
    frames = await receive_until(ws, completed)
    assert frames[-1]["data"]["status"] == "cancelled"
    await ws.close()


async def test_a_client_that_leaves_does_not_end_the_run_by_default(server: Client) -> None:
    token = await token_for(server, "ada")
    body = run_input('/call sleep {"seconds": 0.4}')
    response = await post_agui(server, token, body)
    await read_sse(response, stop_after=2)
    response.close()
    events = await read_sse(await post_agui(server, token, body))
    assert events[-1].event.type is EventType.RUN_FINISHED
    assert outcome(events[-1].event) == "success"


async def test_shutdown_lets_the_run_end_then_ends_the_stream(server: Client) -> None:
    token = await token_for(server, "ada")
    stream = SseReader(await post_agui(server, token, run_input('/call sleep {"seconds": 30}')))
    head = await stream.read(1)
    shutdown = asyncio.create_task(graceful_shutdown(server.app))
    events = head + await stream.read()
    await shutdown
    check_run_order([e.event for e in events])
    assert outcome(events[-1].event) == "cancelled"  # cancelled after the grace
    late = await post_agui(server, token, run_input("hi", run_id="q-late"))
    assert (late.status, (await late.json())["error"]) == (503, "unavailable")


async def test_a_client_that_stops_reading_is_cut_off_and_the_run_goes_on(
    start_server: ServerFactory,
) -> None:
    server = await start_server(ws={"send_queue": 1, "max_message_bytes": 8 * 1024 * 1024})
    state = server.app[STATE]
    token = await token_for(server, "slow")
    started: list[RunEvent] = []
    await state.deps.bus().subscribe("slow", started.append)
    connector = aiohttp.TCPConnector(socket_factory=small_window_socket)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Its first event (3 MB, echoing the message) sticks in the small TCP window while
        # the rest of the run piles up behind it, past ws.send_queue.
        async with session.post(
            server.make_url("/agui"),
            data=io.BytesIO(json.dumps(run_input("y" * 3_000_000)).encode()),
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            assert response.status == 200
            await eventually(lambda: state.slots.count("slow") == 0)
            received = b""
            with contextlib.suppress(aiohttp.ClientPayloadError, aiohttp.ClientConnectionError):
                async for chunk in response.content.iter_any():
                    received += chunk
        assert b"RUN_FINISHED" not in received  # cut off, not finished
    ws = await connect(server, "slow")
    run_id = started[0].run_id
    await ws.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
    frames = await receive_until(ws, completed)
    assert frames[-1]["data"]["status"] == "ok"
    await ws.close()
