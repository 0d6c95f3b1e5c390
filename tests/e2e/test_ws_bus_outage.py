"""Event bus unavailable (docs/operations.md): not ready, chats refused, automatic recovery."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import DEADLINE_S, chat_run, connect, e2e_settings, receive
from tests.fixtures_redis import RedisServer
from toolwire.adapters.redis_bus.bus import PING_FRESH_S
from toolwire.adapters.web.state import STATE
from toolwire.container import create_app, create_container
from toolwire.testing import assert_well_formed

pytestmark = pytest.mark.redis

Client = TestClient[web.Request, web.Application]


async def _ready(client: Client) -> int:
    response = await client.get("/readyz")
    return response.status


async def _until_ready(client: Client, status: int = 200) -> None:
    async with asyncio.timeout(DEADLINE_S):
        while True:
            if await _ready(client) == status:
                return
            await asyncio.sleep(0.05)


async def test_redis_outage_refuses_chats_clearly_and_recovers_by_itself(
    aiohttp_client: Any, redis_server: RedisServer,
) -> None:
    settings = e2e_settings(events={"backend": "redis", "redis_url": redis_server.url})
    client: Client = await aiohttp_client(create_app(create_container(settings)))
    ws = await connect(client, "ada")
    assert await _ready(client) == 200
    assert_well_formed(await chat_run(ws, "hi"))

    redis_server.stop()
    stopped = asyncio.get_running_loop().time()
    await _until_ready(client, 503)  # a probe's answer stands PING_FRESH_S
    assert asyncio.get_running_loop().time() - stopped < PING_FRESH_S + 1.0
    await ws.send_json({"type": "chat", "message": "what is 6*7?", "request_id": "q-down"})
    refused = await receive(ws)
    assert (refused["type"], refused["code"], refused["request_id"]) == (
        "error", "unavailable", "q-down")
    assert "event bus" in refused["message"]
    assert client.app[STATE].deps.runs().live_count == 0  # nothing started
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}  # the socket and the process live on

    redis_server.start()
    await _until_ready(client)  # nothing restarted the app: recovery is automatic
    frames = await chat_run(ws, "what is 6*7?", request_id="q-down")  # the id is free again
    assert_well_formed(frames)
    assert "42" in frames[-1]["data"]["answer"]
    await ws.close()
