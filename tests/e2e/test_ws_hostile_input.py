"""Hostile frames and messages: each gets an ordinary answer and the socket stays usable.

Regression tests for what an attacker could do to main before the hardening work: freeze
the loop with one message, kill a user's writers with a lone surrogate, close the socket
with deep nesting or a huge number.
"""

from __future__ import annotations

import json
import logging
import time

import aiohttp
import jwt
import pytest

from tests.e2e.conftest import (
    TEST_SECRET,
    ServerFactory,
    chat_run,
    completed,
    connect,
    receive,
    receive_until,
)
from toolwire.testing import assert_well_formed

BIG_FRAMES = {"ws": {"max_message_bytes": 4 * 1024 * 1024}}


async def assert_still_serving(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}


@pytest.mark.parametrize(("frame", "code"), [
    ('{"type": "ping", "x": ' + "[" * 10_000 + "]" * 10_000 + "}", "invalid_message"),
    ('{"type": "chat", "message": ' + "[" * 10_000 + "]" * 10_000 + "}", "invalid_message"),
    ('{"type": "resume", "run_id": "r_1", "after_seq": ' + "7" * 5000 + "}", "invalid_message"),
    ('{"type": "chat", "message": "\\ud800"}', "invalid_message"),
    ('{"type": "chat", "message": "hi", "request_id": "\\ud800"}', "invalid_message"),
    ('{"type": "chat", "message": "hi", "thread_id": "\\udfff"}', "invalid_message"),
    ("\x00", "invalid_json"),
    ("[" * 500_000, "invalid_message"),
], ids=["deep-extra-field", "deep-message", "5000-digit-int", "surrogate-message",
        "surrogate-request-id", "surrogate-thread-id", "nul", "half-a-million-brackets"])
async def test_a_hostile_frame_gets_an_error_and_the_socket_stays_open(
    start_server: ServerFactory, frame: str, code: str, caplog: pytest.LogCaptureFixture,
) -> None:
    client = await start_server(**BIG_FRAMES)
    ws = await connect(client, "ada")
    await ws.send_str(frame)
    reply = await receive(ws)
    assert (reply["type"], reply["code"]) == ("error", code)
    assert "request_id" not in reply  # nothing of an unusable frame is echoed
    await assert_still_serving(ws)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    await ws.close()


async def test_a_binary_frame_is_refused_and_the_socket_stays_open(
    start_server: ServerFactory,
) -> None:
    ws = await connect(await start_server(), "ada")
    await ws.send_bytes(b"\xff\x00" * 100)
    assert (await receive(ws))["code"] == "invalid_message"
    await assert_still_serving(ws)
    await ws.close()


async def test_tool_arguments_with_a_lone_surrogate_never_reach_a_writer(
    start_server: ServerFactory,
) -> None:
    client = await start_server()
    ws, other_tab = await connect(client, "ada"), await connect(client, "ada")
    frames = await chat_run(ws, '/call echo {"text": "\\ud800"}')
    assert_well_formed(frames)
    done = next(f for f in frames if f["type"] == "tool_completed")
    assert done["data"]["status"] == "error"
    assert "surrogate" in done["data"]["error"]["message"]
    assert await receive_until(other_tab, completed) == frames  # every socket of the user
    for socket in (ws, other_tab):
        await assert_still_serving(socket)
        await socket.close()


async def test_a_tool_result_with_a_lone_surrogate_arrives_as_valid_utf8(
    start_server: ServerFactory,
) -> None:
    client = await start_server(tools={"modules": ["tests.e2e.hostile_tools"]})
    ws = await connect(client, "ada")
    await ws.send_json({"type": "chat", "message": "/call lone_surrogate {}"})
    raw = []
    while True:
        msg = await ws.receive(timeout=10)
        assert msg.type is aiohttp.WSMsgType.TEXT
        raw.append(msg.data)
        if json.loads(msg.data)["type"] == "agent_completed":
            break
    frames = [json.loads(text) for text in raw]
    assert_well_formed(frames)
    done = next(f for f in frames if f["type"] == "tool_completed")
    assert done["data"]["result"] == "before \ufffd after"
    await assert_still_serving(ws)
    await ws.close()


async def test_the_message_that_used_to_freeze_the_loop_is_answered_at_once(
    start_server: ServerFactory,
) -> None:
    ws = await connect(await start_server(**BIG_FRAMES), "ada")
    message = "1" + " " * 1_000_000 + "1"  # 40 000 spaces took 8.7 s; this would take hours
    frames = await chat_run(ws, message)
    assert_well_formed(frames)
    assert frames[-1]["data"]["answer"] == f"You said: {message}"
    await ws.close()


async def test_a_token_that_claims_to_live_for_ever_is_refused(
    start_server: ServerFactory,
) -> None:
    client = await start_server()
    now = int(time.time())
    forever = jwt.encode({"sub": "ada", "iat": now, "exp": 253402300799}, TEST_SECRET,
                         algorithm="HS256")
    response = await client.get("/ws", headers={"Authorization": f"Bearer {forever}"})
    assert response.status == 401
    assert "max_token_ttl_s" in await response.text()
    day = jwt.encode({"sub": "ada", "iat": now, "exp": now + 3600}, TEST_SECRET,
                     algorithm="HS256")
    ws = await client.ws_connect("/ws", headers={"Authorization": f"Bearer {day}"})
    await assert_still_serving(ws)
    await ws.close()


async def test_an_unexpected_failure_is_logged_with_the_user_and_answered_vaguely(
    start_server: ServerFactory, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from toolwire.adapters.web.ws import handler

    async def broken(*args: object) -> None:
        raise KeyError("internal detail")

    monkeypatch.setattr(handler, "_dispatch", broken)
    ws = await connect(await start_server(), "ada")
    await ws.send_json({"type": "ping", "request_id": "q-7"})
    reply = await receive(ws)
    assert reply == {"type": "error", "code": "internal_error", "request_id": "q-7",
                     "message": "the server failed to handle this frame"}
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and all(getattr(r, "user_id", None) == "ada" for r in logged)
    await ws.close()
