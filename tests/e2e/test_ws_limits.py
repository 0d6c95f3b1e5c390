"""Per-user limits (DESIGN §8) and the slow-consumer rule."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.conftest import (
    ServerFactory,
    chat_run,
    completed,
    connect,
    eventually,
    receive,
    receive_until,
)
from toolwire.adapters.web.state import STATE
from toolwire.testing import assert_well_formed

Client = TestClient[web.Request, web.Application]


async def test_more_sockets_than_allowed_is_429(start_server: ServerFactory) -> None:
    client = await start_server(limits={"sockets_per_user": 2})
    first, second = await connect(client, "ada"), await connect(client, "ada")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(client, "ada")
    assert refused.value.status == 429
    other = await connect(client, "bob")  # the limit is per user
    await second.close()
    third = await connect(client, "ada")  # a closed socket frees its place
    for ws in (first, third, other):
        await ws.close()


async def test_too_many_concurrent_runs_is_rate_limited(start_server: ServerFactory) -> None:
    client = await start_server(limits={"runs_per_user": 1})
    ws = await connect(client, "ada")
    await ws.send_json({"type": "chat", "message": '/call sleep {"seconds": 0.3}'})
    first = await receive(ws)
    await ws.send_json({"type": "chat", "message": "hi", "request_id": "q-2"})
    refused = await receive_until(ws, lambda f: f["type"] == "error")
    assert refused[-1]["code"] == "rate_limited"
    assert refused[-1]["request_id"] == "q-2"
    rest = await receive_until(ws, completed)
    assert_well_formed([first, *refused[:-1], *rest])  # no second run's events in between
    assert_well_formed(await chat_run(ws, "hi"))  # allowed again once the first ended
    await ws.close()


async def test_too_many_chats_a_minute_is_rate_limited(start_server: ServerFactory) -> None:
    client = await start_server(limits={"chats_per_minute": 2})
    ws = await connect(client, "ada")
    await chat_run(ws, "one")
    await chat_run(ws, "two")
    await ws.send_json({"type": "chat", "message": "three"})
    assert (await receive(ws))["code"] == "rate_limited"
    other = await connect(client, "bob")
    assert_well_formed(await chat_run(other, "one"))  # the quota is per user
    await ws.close()
    await other.close()


async def test_slow_consumer_is_closed_1008_while_a_fast_one_keeps_receiving(
    start_server: ServerFactory,
) -> None:
    client = await start_server(ws={"send_queue": 4, "max_message_bytes": 2 * 1024 * 1024})
    state = client.app[STATE]
    slow = await connect(client, "slow")  # sends chats but reads nothing until the end
    fast = await connect(client, "fast")
    big = "y" * 900_000
    for i in range(6):
        await slow.send_str(json.dumps({"type": "chat", "message": big, "request_id": f"s{i}"}))

    await eventually(lambda: any(c.closing for c in state.connections if c.user_id == "slow"))
    for _ in range(3):
        assert_well_formed(await chat_run(fast, "what is 6*7?"))

    received = []
    async with asyncio.timeout(20):
        while (msg := await slow.receive()).type is aiohttp.WSMsgType.TEXT:
            received.append(json.loads(msg.data))
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert slow.close_code == 1008
    assert msg.extra == "slow consumer"
    assert len(received) < 6 * 3

    fresh = await connect(client, "slow")  # the runs went on and can be resumed
    for run_id in {frame["run_id"] for frame in received}:
        await fresh.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
        run = await receive_until(fresh, completed)
        assert_well_formed(run)
        assert run[-1]["data"]["status"] == "ok"
    for ws in (fresh, fast):
        await ws.close()
