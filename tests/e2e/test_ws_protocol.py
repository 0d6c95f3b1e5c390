"""Malformed frames get the right `error` code and the socket stays usable; oversize closes 1009."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import ServerFactory, chat_run, connect, receive
from toolwire.testing import assert_well_formed

Client = TestClient[web.Request, web.Application]

MALFORMED = [
    ("not json", "invalid_json"),
    ('{"type": "chat", "message": ', "invalid_json"),
    ("[1, 2, 3]", "invalid_message"),
    ('"chat"', "invalid_message"),
    ("42", "invalid_message"),
    ("{}", "invalid_message"),
    ('{"type": 7}', "invalid_message"),
    ('{"type": "launch_missiles"}', "unknown_type"),
    ('{"type": "chat"}', "invalid_message"),
    ('{"type": "chat", "message": 5}', "invalid_message"),
    ('{"type": "chat", "message": ""}', "invalid_message"),
    ('{"type": "chat", "message": "hi", "request_id": 12}', "invalid_message"),
    ('{"type": "cancel"}', "invalid_message"),
    ('{"type": "resume", "run_id": "r_1"}', "invalid_message"),
    ('{"type": "resume", "run_id": "r_1", "after_seq": "3"}', "invalid_message"),
    ('{"type": "resume", "run_id": "r_1", "after_seq": -1}', "invalid_message"),
]


@pytest.mark.parametrize(("text", "code"), MALFORMED)
async def test_malformed_text_frame_gets_its_code_then_ping_works(
    server: Client, text: str, code: str
) -> None:
    ws = await connect(server, "ada")
    await ws.send_str(text)
    error = await receive(ws)
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}
    await ws.close()


async def test_binary_frame_is_invalid_message_and_the_socket_stays(server: Client) -> None:
    ws = await connect(server, "ada")
    await ws.send_bytes(b'{"type": "ping"}')
    error = await receive(ws)
    assert (error["type"], error["code"]) == ("error", "invalid_message")
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}
    await ws.close()


async def test_error_echoes_the_request_id(server: Client) -> None:
    ws = await connect(server, "ada")
    await ws.send_str(json.dumps({"type": "chat", "message": 1, "request_id": "q-9"}))
    error = await receive(ws)
    assert error["request_id"] == "q-9"
    await ws.close()


async def test_client_fields_cannot_change_identity(server: Client) -> None:
    watcher = await connect(server, "victim")
    ws = await connect(server, "ada")
    frames = await chat_run(ws, "hello", user_id="victim", sub="victim")
    assert_well_formed(frames)
    await watcher.send_json({"type": "ping"})
    assert await receive(watcher) == {"type": "pong"}  # nothing of ada's run reached victim
    await ws.close()
    await watcher.close()


async def test_oversized_frame_closes_1009_and_the_server_lives_on(
    start_server: ServerFactory,
) -> None:
    client = await start_server(ws={"max_message_bytes": 4096})
    other = await connect(client, "bob")
    ws = await connect(client, "ada")
    await ws.send_str(json.dumps({"type": "chat", "message": "x" * 10_000}))
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert ws.close_code == 1009
    assert_well_formed(await chat_run(other, "what is 1+1?"))
    again = await connect(client, "ada")
    assert_well_formed(await chat_run(again, "what is 2+2?"))
    await other.close()
    await again.close()
