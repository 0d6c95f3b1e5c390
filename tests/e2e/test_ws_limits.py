"""Per-user limits (docs/operations.md) and the slow-consumer rule."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import (
    ServerFactory,
    chat_run,
    completed,
    connect,
    receive,
    receive_until,
    stalling_client,
)
from tests.support import eventually
from toolwire.adapters.web.state import STATE
from toolwire.services.events import RunEvent
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
    client = await start_server(ws={"send_queue": 4, "max_message_bytes": 8 * 1024 * 1024})
    state = client.app[STATE]
    fast = await connect(client, "fast")
    # One chat whose echoed events (two of 3 MB) outgrow the kernel's socket buffers, then
    # pings whose pongs pile up behind them. The stalling client's small TCP window keeps the
    # kernel from absorbing it all; every frame it sends is read, so the close is a clean one.
    big = "y" * 3_000_000
    async with stalling_client(client, "slow") as slow:
        published: list[RunEvent] = []
        await state.deps.bus().subscribe("slow", published.append)
        await slow.send_str(json.dumps({"type": "chat", "message": big, "request_id": "s1"}))
        # The run ends whoever reads; by then its first frame is stuck in the small window.
        await eventually(lambda: any(e.type == "agent_completed" for e in published))
        for _ in range(8):
            await slow.send_str(json.dumps({"type": "ping"}))

        def slow_closing() -> bool:
            mine = [c for c in state.connections if c.user_id == "slow"]
            return state.slots.count("slow") == 0 or any(c.delivery.gave_up for c in mine)

        await eventually(slow_closing)
        for _ in range(3):
            assert_well_formed(await chat_run(fast, "what is 6*7?"))

        received = []
        async with asyncio.timeout(20):
            while (msg := await slow.receive()).type is aiohttp.WSMsgType.TEXT:
                received.append(json.loads(msg.data))
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert msg.data == 1008  # the close frame's code (the server may drop TCP before the
        assert msg.extra == "slow consumer"  # client's close reply, so close_code can be 1006)

    run_ids = {frame["run_id"] for frame in received if "run_id" in frame}
    assert len(run_ids) == 1  # its agent_started got through before the stall
    fresh = await connect(client, "slow")  # the run went on and can be resumed
    for run_id in run_ids:
        await fresh.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
        run = await receive_until(fresh, completed)
        assert_well_formed(run)
        assert run[-1]["data"]["status"] == "ok"
    for ws in (fresh, fast):
        await ws.close()
