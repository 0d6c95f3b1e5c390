"""Scale-out (docs/operations.md): two server instances on one Redis behave as one service."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import (
    Frame,
    chat_run,
    completed,
    connect,
    e2e_settings,
    receive,
    receive_until,
)
from toolwire.container import create_app, create_container
from toolwire.testing import assert_well_formed

pytestmark = pytest.mark.redis

Client = TestClient[web.Request, web.Application]
Instances = tuple[Client, Client]


@pytest.fixture
async def instances(redis_url: str, aiohttp_client: Any) -> Instances:
    """Two apps, each with its own container and Redis bus, on the same Redis server.

    Redis comes first so it stops last: apps still running a run at teardown can end it.
    """

    async def instance() -> Client:
        settings = e2e_settings(events={"backend": "redis", "redis_url": redis_url})
        client: Client = await aiohttp_client(create_app(create_container(settings)))
        return client

    return await instance(), await instance()


async def _nothing_pending(ws: ClientWebSocketResponse) -> None:
    """Assert that the next frame is the answer to a ping: nothing else was queued."""
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}


async def _start_sleeping_run(ws: ClientWebSocketResponse) -> list[Frame]:
    message = '/call echo {"text": "a"}\n/call sleep {"seconds": 0.6}\n/call echo {"text": "b"}'
    await ws.send_json({"type": "chat", "message": message})
    return await receive_until(ws, lambda f: f["type"] == "tool_executing"
                               and f["data"]["tool"] == "sleep")


async def test_a_run_on_one_instance_reaches_the_users_sockets_on_both_exactly_once(
    instances: Instances,
) -> None:
    a, b = instances
    ada_a, ada_b, bob_b = await connect(a, "ada"), await connect(b, "ada"), await connect(b, "bob")
    on_a = await chat_run(ada_a, "what is 6*7?")
    on_b = await receive_until(ada_b, completed)
    assert_well_formed(on_a)
    assert on_b == on_a
    assert "42" in on_a[-1]["data"]["answer"]
    for ws in (ada_a, ada_b, bob_b):
        await _nothing_pending(ws)  # no duplicate for ada, nothing at all for bob
        await ws.close()


async def test_resume_on_another_instance_replays_exactly_the_missing_events(
    instances: Instances,
) -> None:
    a, b = instances
    ada_a = await connect(a, "ada")
    seen = await _start_sleeping_run(ada_a)
    run_id, last_seq = seen[0]["run_id"], seen[-1]["seq"]
    await ada_a.close()

    ada_b = await connect(b, "ada")  # also subscribed live: the seam must hide duplicates
    await ada_b.send_json({"type": "resume", "run_id": run_id, "after_seq": last_seq - 2})
    rest = await receive_until(ada_b, completed)
    assert [f["seq"] for f in rest] == list(range(last_seq - 1, rest[-1]["seq"] + 1))
    assert_well_formed(seen[:-2] + rest)
    assert rest[-1]["data"]["status"] == "ok"

    await ada_b.send_json({"type": "resume", "run_id": run_id, "after_seq": 3})
    ended = await receive_until(ada_b, completed)
    assert ended == (seen[:-2] + rest)[3:]  # of an ended run too, from the other instance
    await _nothing_pending(ada_b)
    await ada_b.close()


async def test_another_users_run_is_not_found_across_instances(instances: Instances) -> None:
    a, b = instances
    ada_a, mallory_b = await connect(a, "ada"), await connect(b, "mallory")
    run_id = (await _start_sleeping_run(ada_a))[0]["run_id"]
    for kind in ("cancel", "resume"):
        fields = {"after_seq": 0} if kind == "resume" else {}
        await mallory_b.send_json({"type": kind, "run_id": run_id, **fields})
        refused = await receive(mallory_b)
        assert (refused["type"], refused["code"]) == ("error", "not_found")
    rest = await receive_until(ada_a, completed)
    assert rest[-1]["data"]["status"] == "ok"  # mallory's cancel did nothing
    await mallory_b.send_json({"type": "cancel", "run_id": "r_unknown"})
    assert (await receive(mallory_b))["code"] == "not_found"
    await _nothing_pending(mallory_b)  # none of ada's events reached mallory
    for ws in (ada_a, mallory_b):
        await ws.close()


async def test_own_run_on_another_instance_is_cancelled_from_this_one(
    instances: Instances,
) -> None:
    a, b = instances
    ada_a, ada_b, mallory_b = (
        await connect(a, "ada"), await connect(b, "ada"), await connect(b, "mallory"))
    await ada_a.send_json({"type": "chat", "message": '/call sleep {"seconds": 30}'})
    started = await receive_until(ada_a, lambda f: f["type"] == "tool_executing")
    assert await receive_until(ada_b, lambda f: f["type"] == "tool_executing") == started
    run_id = started[0]["run_id"]

    await mallory_b.send_json({"type": "cancel", "run_id": run_id})
    refused = await receive(mallory_b)
    assert (refused["type"], refused["code"]) == ("error", "not_found")
    await _nothing_pending(ada_a)  # mallory's cancel did nothing: the run still sleeps

    await ada_b.send_json({"type": "cancel", "run_id": run_id})
    on_a = started + await receive_until(ada_a, completed, within_s=5)  # not the 30 s sleep
    on_b = started + await receive_until(ada_b, completed, within_s=5)
    assert_well_formed(on_a)
    assert on_b == on_a
    assert on_a[-2]["data"]["status"] == "cancelled"  # the sleep's tool_completed
    assert on_a[-1]["data"]["status"] == "cancelled"
    for ws in (ada_a, ada_b, mallory_b):
        await _nothing_pending(ws)
        await ws.close()
