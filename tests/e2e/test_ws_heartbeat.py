"""Server heartbeat (docs/operations.md, "dead peer"): silent peers close, answering ones stay."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import DEADLINE_S, ServerFactory, receive, token_for
from tests.support import eventually
from toolwire.adapters.web.state import STATE

Client = TestClient[web.Request, web.Application]
HEARTBEAT_S = 0.1


async def _raw_socket(client: Client, user_id: str) -> aiohttp.ClientWebSocketResponse:
    """A socket whose pings are NOT answered automatically (aiohttp hands them to us)."""
    token = await token_for(client, user_id)
    return await client.ws_connect(
        "/ws", headers={"Authorization": f"Bearer {token}"}, autoping=False)


async def test_a_peer_that_does_not_answer_pings_is_closed(start_server: ServerFactory) -> None:
    client = await start_server(ws={"heartbeat_s": HEARTBEAT_S})
    state = client.app[STATE]
    ws = await _raw_socket(client, "ada")
    kinds = []
    async with asyncio.timeout(DEADLINE_S):
        while (msg := await ws.receive()).type is aiohttp.WSMsgType.PING:
            kinds.append(msg.type)  # seen, never answered
    assert kinds, "the server never pinged"
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                        aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    await eventually(lambda: state.slots.count("ada") == 0 and not list(state.connections))
    await ws.close()


async def test_a_peer_that_answers_pings_stays_open_across_heartbeats(
    start_server: ServerFactory,
) -> None:
    client = await start_server(ws={"heartbeat_s": HEARTBEAT_S})
    ws = await _raw_socket(client, "ada")
    async with asyncio.timeout(DEADLINE_S):
        for _ in range(5):  # five heartbeats, each answered by hand
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.PING, msg
            await ws.pong(msg.data)
    await ws.send_json({"type": "ping"})
    while (msg := await ws.receive(timeout=DEADLINE_S)).type is aiohttp.WSMsgType.PING:
        await ws.pong(msg.data)
    assert msg.type is aiohttp.WSMsgType.TEXT and msg.json() == {"type": "pong"}
    assert client.app[STATE].slots.count("ada") == 1
    await ws.close()


async def test_a_default_client_stays_open_across_heartbeats(
    start_server: ServerFactory,
) -> None:
    """aiohttp's client answers pings while it reads; several heartbeats pass without a close."""
    client = await start_server(ws={"heartbeat_s": HEARTBEAT_S})
    token = await token_for(client, "ada")
    ws = await client.ws_connect("/ws", headers={"Authorization": f"Bearer {token}"})
    reading = asyncio.create_task(receive(ws))  # answers each ping, waits for a text frame
    await asyncio.sleep(5 * HEARTBEAT_S)
    assert not reading.done()
    await ws.send_json({"type": "ping"})
    assert await reading == {"type": "pong"}
    assert not ws.closed
    await ws.close()
