"""Runs across instances while Redis fails: bounded shutdown, cancels that are not lost,
a frozen Redis refused fast (real `toolwire serve` processes, real `redis-server`)."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import aiohttp
import pytest
import redis

from tests.e2e.served import open_socket, serve
from tests.e2e.test_runs_across_instances import LEASE_S, SLEEPY, receive, settings, until
from tests.fixtures_redis import RedisServer
from toolwire.testing import assert_well_formed

pytestmark = pytest.mark.redis

GRACE_S = 1.0
CLOSE_TIMEOUT_S = 1.0


async def test_sigterm_while_redis_is_down_exits_within_grace_and_close_timeout(
    redis_server: RedisServer,
) -> None:
    extra = {"TOOLWIRE_RUNS__MAX_DURATION_S": "60", "TOOLWIRE_WS__CLOSE_TIMEOUT_S": "1"}
    async with serve(**settings(redis_server.url, **extra)) as a, \
            aiohttp.ClientSession() as session:
        on_a = await open_socket(session, a, "ann")
        await on_a.send_json({"type": "chat", "message": SLEEPY})
        await until(on_a, lambda f: f.get("type") == "tool_executing")
        redis_server.stop()
        stopping = time.monotonic()
        code = await a.stop(timeout_s=60)
        took = time.monotonic() - stopping
    assert code == 0
    assert took < GRACE_S + CLOSE_TIMEOUT_S + 8, took  # was ~2 x max_duration_s
    assert any("never published" in line for line in a.log), a.log[-20:]
    print(f"\nSIGTERM during an outage: exited after {took:.2f} s")


async def test_a_cancel_sent_as_soon_as_redis_is_back_is_not_lost(
    durable_redis_server: RedisServer,
) -> None:
    url = durable_redis_server.url
    async with serve(**settings(url)) as a, serve(**settings(url)) as b, \
            aiohttp.ClientSession() as session:
        on_a, on_b = await open_socket(session, a, "ann"), await open_socket(session, b, "ann")
        await on_a.send_json({"type": "chat", "message": SLEEPY})
        first = await until(on_a, lambda f: f.get("type") == "tool_executing")
        run_id = first[0]["run_id"]
        durable_redis_server.stop()
        durable_redis_server.start()
        async with asyncio.timeout(10):
            while True:  # the moment B is ready again
                async with session.get(f"{b.url}/readyz") as response:
                    if response.status == 200:
                        break
                await asyncio.sleep(0.01)
        sent = time.monotonic()
        await on_b.send_json({"type": "cancel", "run_id": run_id})
        frames = await until(on_a, lambda f: f.get("type") == "agent_completed",
                             within_s=LEASE_S + 10)
        took = time.monotonic() - sent
    assert frames[-1]["data"]["status"] == "cancelled", frames[-1]
    assert_well_formed([*first, *frames])
    print(f"\ncancel in the reconnect window: run ended {took:.2f} s after it was sent")


async def test_a_cancel_sent_while_the_owners_pubsub_link_is_down_is_not_lost(
    redis_server: RedisServer,
) -> None:
    async with serve(**settings(redis_server.url)) as a, serve(**settings(redis_server.url)) as b, \
            aiohttp.ClientSession() as session:
        on_a, on_b = await open_socket(session, a, "ann"), await open_socket(session, b, "ann")
        await on_a.send_json({"type": "chat", "message": SLEEPY})
        first = await until(on_a, lambda f: f.get("type") == "tool_executing")
        client = redis.Redis.from_url(redis_server.url)
        client.client_kill_filter(_type="pubsub")  # every instance's link drops at once
        client.close()
        await on_b.send_json({"type": "cancel", "run_id": first[0]["run_id"]})
        frames = await until(on_a, lambda f: f.get("type") == "agent_completed",
                             within_s=LEASE_S + 10)
    assert frames[-1]["data"]["status"] == "cancelled", frames[-1]
    assert_well_formed([*first, *frames])


async def test_a_frozen_redis_refuses_a_chat_within_the_pool_timeout(
    redis_server: RedisServer,
) -> None:
    async with serve(**settings(redis_server.url)) as a, aiohttp.ClientSession() as session:
        on_a = await open_socket(session, a, "ann")
        redis_server.signal(signal.SIGSTOP)
        try:
            sent = time.monotonic()
            await on_a.send_json({"type": "chat", "message": "hello"})
            refused = await receive(on_a)
            took = time.monotonic() - sent
        finally:
            redis_server.signal(signal.SIGCONT)
    assert refused["type"] == "error" and refused["code"] == "unavailable", refused
    assert str(redis_server.port) not in refused["message"]
    assert took < 1.5, took  # events.redis_pool_timeout_s = 0.5


async def test_an_outage_longer_than_max_duration_leaves_one_sequence_everywhere(
    durable_redis_server: RedisServer,
) -> None:
    url = durable_redis_server.url
    extra = {"TOOLWIRE_RUNS__MAX_DURATION_S": "2"}
    async with serve(**settings(url, **extra)) as a, serve(**settings(url, **extra)) as b, \
            aiohttp.ClientSession() as session:
        on_a, on_b = await open_socket(session, a, "ann"), await open_socket(session, b, "ann")
        await on_a.send_json({"type": "chat", "message": '/call sleep {"seconds": 1}\n'
                                                         '/call echo {"text": "x"}'})
        seen_a = await until(on_a, lambda f: f.get("type") == "tool_executing")
        run_id = seen_a[0]["run_id"]
        durable_redis_server.stop()
        await asyncio.sleep(9)  # past max_duration_s and the cancelled run's give-up bound
        durable_redis_server.start()
        restarted = time.monotonic()
        seen_a += await until(on_a, lambda f: f.get("type") == "agent_completed", within_s=20)
        took = time.monotonic() - restarted
        seen_b = await until(on_b, lambda f: f.get("type") == "agent_completed", within_s=10)
        resumer = await open_socket(session, b, "ann")
        await resumer.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
        resumed = await until(resumer, lambda f: f.get("type") == "agent_completed")
    assert_well_formed(resumed)
    assert seen_a == resumed  # one event per seq, the same on every view
    assert [f for f in seen_b if f["run_id"] == run_id] == resumed
    assert resumed[-1]["data"]["status"] == "error"
    assert str(durable_redis_server.port) not in json.dumps(resumed)
    print(f"\noutage > max_duration_s: end seen {took:.2f} s after Redis came back; "
          f"1 run, {len(resumed)} events, 0 duplicates, 0 missing seq")
