"""Two and three real `toolwire serve` processes on one `redis-server` behave as one server:
retries replay on any instance, quotas are shared, and a killed instance's run is ended once
by a survivor (DESIGN: runs across instances)."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import aiohttp
import pytest
import redis
from ag_ui.core import EventType

from tests.e2e.agui_client import SseEvent, read_sse, run_input
from tests.e2e.served import Served, open_socket, serve, token
from tests.fixtures_redis import RedisServer
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.testing import assert_well_formed

pytestmark = pytest.mark.redis

Frame = dict[str, Any]
LEASE_S = 1.0
SLEEPY = '/call sleep {"seconds": 8}\n/call echo {"text": "after"}'

def settings(redis_url: str, **extra: str) -> dict[str, str]:
    return {
        "TOOLWIRE_LOG_LEVEL": "WARNING", "TOOLWIRE_EVENTS__BACKEND": "redis",
        "TOOLWIRE_EVENTS__REDIS_URL": redis_url, "TOOLWIRE_RUNS__LEASE_S": str(LEASE_S),
        "TOOLWIRE_RUNS__SHUTDOWN_GRACE_S": "1", **extra,
    }


@pytest.fixture
async def instances(redis_server: RedisServer) -> AsyncIterator[tuple[Served, Served]]:
    async with serve(**settings(redis_server.url)) as a, serve(**settings(redis_server.url)) as b:
        yield a, b


async def receive(ws: aiohttp.ClientWebSocketResponse, within_s: float = 15.0) -> Frame:
    msg = await ws.receive(timeout=within_s)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    frame: Frame = msg.json()
    return frame


async def until(ws: aiohttp.ClientWebSocketResponse, done: Callable[[Frame], bool],
                within_s: float = 15.0) -> list[Frame]:
    """Return the frames up to and including the first one `done` accepts."""
    frames: list[Frame] = []
    async with asyncio.timeout(within_s):
        while True:
            frames.append(await receive(ws, within_s))
            if done(frames[-1]):
                return frames


def ended(frame: Frame) -> bool:
    return frame.get("type") in ("agent_completed", "error")


def stored(redis_url: str, run_id: str, *, cluster: bool = False) -> list[Frame]:
    client: redis.Redis | redis.RedisCluster = (
        redis.RedisCluster.from_url(redis_url) if cluster else redis.Redis.from_url(redis_url))
    try:
        entries = cast("list[tuple[bytes, dict[bytes, bytes]]]",
                       client.xrange(RedisKeys().stream(run_id)))
    finally:
        client.close()
    return [json.loads(fields[b"event"]) for _, fields in entries]


async def test_a_retry_on_another_instance_replays_the_first_run(
    instances: tuple[Served, Served], redis_server: RedisServer,
) -> None:
    a, b = instances
    async with aiohttp.ClientSession() as session:
        on_a = await open_socket(session, a, "ann")
        await on_a.send_json({"type": "chat", "message": '/call echo {"text": "x"}',
                              "request_id": "q1"})
        first = await until(on_a, ended)
        assert first[-1]["type"] == "agent_completed"
        on_b = await open_socket(session, b, "ann")  # reconnected through the balancer
        await on_b.send_json({"type": "chat", "message": '/call echo {"text": "x"}',
                              "request_id": "q1"})
        retried = await until(on_b, ended)
    assert retried == first  # the same run, from seq 1: no second run, no tool ran twice
    client = redis.Redis.from_url(redis_server.url)
    runs = client.zrange(RedisKeys().user_runs("ann"), 0, -1)
    client.close()
    assert len(runs) == 1


async def test_a_retry_of_a_live_run_on_another_instance_joins_it(
    instances: tuple[Served, Served],
) -> None:
    a, b = instances
    async with aiohttp.ClientSession() as session:
        on_a = await open_socket(session, a, "ann")
        await on_a.send_json({"type": "chat", "message": '/call sleep {"seconds": 2}',
                              "request_id": "q2"})
        # While the tool sleeps the run publishes nothing: B's new socket sees only the retry.
        head = await until(on_a, lambda f: f.get("type") == "tool_executing")
        on_b = await open_socket(session, b, "ann")
        await on_b.send_json({"type": "chat", "message": '/call sleep {"seconds": 2}',
                              "request_id": "q2"})
        retried = await until(on_b, lambda f: f.get("type") == "agent_completed")
    assert {f["run_id"] for f in retried} == {head[0]["run_id"]}
    assert retried[:len(head)] == head
    assert [f["seq"] for f in retried] == list(range(1, len(retried) + 1))
    assert_well_formed(retried)


async def test_quotas_hold_for_all_instances_together(redis_server: RedisServer) -> None:
    extra = {"TOOLWIRE_LIMITS__RUNS_PER_USER": "1"}
    async with serve(**settings(redis_server.url, **extra)) as a, \
            serve(**settings(redis_server.url, **extra)) as b, aiohttp.ClientSession() as session:
        on_a, on_b = await open_socket(session, a, "ann"), await open_socket(session, b, "ann")
        await on_a.send_json({"type": "chat", "message": '/call sleep {"seconds": 3}'})
        await receive(on_a)
        await on_b.send_json({"type": "chat", "message": "hello"})
        frames = await until(on_b, lambda f: f.get("type") == "error")
        assert frames[-1]["code"] == "rate_limited"
        assert "limits.runs_per_user" in frames[-1]["message"]


@pytest.mark.parametrize("cluster", [False, True], ids=["redis", "redis-cluster"])
async def test_a_killed_instances_run_is_ended_once_by_a_survivor(
    request: pytest.FixtureRequest, cluster: bool,
) -> None:
    url = str(request.getfixturevalue("redis_cluster_url" if cluster else "redis_url"))
    env = settings(url, TOOLWIRE_EVENTS__REDIS_CLUSTER=str(cluster).lower())
    async with serve(**env) as a, serve(**env) as b, serve(**env) as c, \
            aiohttp.ClientSession() as session:
        on_a, on_b = await open_socket(session, a, "ann"), await open_socket(session, b, "ann")
        await on_a.send_json({"type": "chat", "message": SLEEPY})
        before = await until(on_a, lambda f: f.get("type") == "tool_executing")
        run_id = before[0]["run_id"]
        await asyncio.sleep(0.3)  # B has them too
        a.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        live = await until(on_b, lambda f: f.get("type") == "agent_completed",
                           within_s=LEASE_S + 8)
        took = time.monotonic() - killed
        on_c = await open_socket(session, c, "ann")
        await on_c.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
        resumed = await until(on_c, lambda f: f.get("type") == "agent_completed")
        await asyncio.sleep(LEASE_S * 2)  # every survivor had its chance to end it too
    kept = stored(url, run_id, cluster=cluster)
    assert took < LEASE_S + 3, took
    assert_well_formed(kept)
    assert [f["seq"] for f in kept] == list(range(1, len(kept) + 1))
    assert sum(f["type"] == "agent_completed" for f in kept) == 1
    end = kept[-1]["data"]
    assert end["status"] == "error" and end["error"]["type"] == "interrupted"
    assert kept[-2]["type"] == "tool_completed" and kept[-2]["data"]["status"] == "cancelled"
    assert [f for f in live if f["run_id"] == run_id] == kept  # B's live view is the stream
    assert resumed == kept
    print(f"\nkilled owner ({request.node.callspec.id}): end seen on B after {took:.2f} s; "
          f"1 run, {len(kept)} events, "
          "0 duplicates, 0 missing seq")


async def test_a_cancel_of_a_run_whose_instance_died_is_answered_with_its_end(
    instances: tuple[Served, Served], redis_server: RedisServer,
) -> None:
    a, b = instances
    async with aiohttp.ClientSession() as session:
        on_a, on_b = await open_socket(session, a, "ann"), await open_socket(session, b, "ann")
        await on_a.send_json({"type": "chat", "message": SLEEPY})
        before = await until(on_a, lambda f: f.get("type") == "tool_executing")
        run_id = before[0]["run_id"]
        a.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await on_b.send_json({"type": "cancel", "run_id": run_id})
        frames = await until(on_b, lambda f: f.get("type") == "agent_completed",
                             within_s=LEASE_S + 8)
        took = time.monotonic() - killed
    assert not [f for f in frames if f.get("type") == "error"], frames
    assert frames[-1]["data"]["error"]["type"] == "interrupted"
    assert took < LEASE_S + 3, took
    assert_well_formed(stored(redis_server.url, run_id))


async def test_cancel_on_disconnect_counts_the_users_sockets_on_every_instance(
    redis_server: RedisServer,
) -> None:
    extra = {"TOOLWIRE_RUNS__CANCEL_ON_DISCONNECT": "true"}
    async with serve(**settings(redis_server.url, **extra)) as a, \
            serve(**settings(redis_server.url, **extra)) as b, aiohttp.ClientSession() as session:
        on_a, on_b = await open_socket(session, a, "ann"), await open_socket(session, b, "ann")
        await on_a.send_json({"type": "chat", "message": '/call sleep {"seconds": 2}'})
        first = await until(on_a, lambda f: f.get("type") == "tool_executing")
        await on_a.close()  # the user is still connected to B
        spared = await until(on_b, lambda f: f.get("type") == "agent_completed")
        assert spared[-1]["data"]["status"] == "ok"
        on_a = await open_socket(session, a, "ann")
        await on_a.send_json({"type": "chat", "message": '/call sleep {"seconds": 5}'})
        second = await until(on_a, lambda f: f.get("type") == "tool_executing")
        await on_a.close()  # A keeps its run: the user still has a socket on B
        await asyncio.sleep(0.5)
        await on_b.close()  # the last socket anywhere, on the instance NOT running the run
        await asyncio.sleep(1.5)
        resumer = await open_socket(session, b, "ann")
        await resumer.send_json({"type": "resume", "run_id": second[0]["run_id"],
                                 "after_seq": 0})
        ended_run = await until(resumer, lambda f: f.get("type") == "agent_completed")
    assert first[0]["run_id"] != second[0]["run_id"]
    assert ended_run[-1]["data"]["status"] == "cancelled"


async def post_agui(session: aiohttp.ClientSession, served: Served, user: str,
                    body: dict[str, Any], **headers: str) -> list[SseEvent]:
    """POST a RunAgentInput to `served` as `user` and read the event stream to its end."""
    bearer = await token(session, served.url, user)
    async with session.post(f"{served.url}/agui", json=body,
                            headers={"Authorization": f"Bearer {bearer}", **headers}) as response:
        return await read_sse(response, within_s=LEASE_S + 15)


async def test_agui_retries_and_resumes_on_another_instance_see_the_same_run(
    redis_server: RedisServer,
) -> None:
    async with serve(**settings(redis_server.url)) as a, serve(**settings(redis_server.url)) as b, \
            aiohttp.ClientSession() as session:
        body = run_input('/call echo {"text": "x"}', run_id="g-1")
        first = await post_agui(session, a, "ann", body)
        again = await post_agui(session, b, "ann", body)  # the same runId elsewhere: a replay
        assert [e.id for e in again] == [e.id for e in first]
        # A run whose instance dies: a Last-Event-ID resume on another instance sees its end.
        on_a = await open_socket(session, a, "ann")
        slow = run_input(SLEEPY, run_id="g-2")
        await on_a.send_json({"type": "chat", "message": SLEEPY, "request_id": "g-2"})
        head = await until(on_a, lambda f: f.get("type") == "tool_executing")
        a.process.send_signal(signal.SIGKILL)
        rest = await post_agui(session, b, "ann", slow,
                               **{"Last-Event-ID": f"{head[0]['run_id']}:1:0"})
    assert rest[0].id == f"{head[0]['run_id']}:2:0"  # exactly after the last event seen
    assert rest[-1].event.type is EventType.RUN_ERROR
    assert rest[-1].event.model_dump(mode="json")["code"] == "interrupted"


async def test_a_paused_owner_that_comes_back_after_its_run_was_ended_adds_nothing(
    redis_server: RedisServer,
) -> None:
    async with serve(**settings(redis_server.url)) as a, serve(**settings(redis_server.url)) as b, \
            aiohttp.ClientSession() as session:
        on_b = await open_socket(session, b, "ann")
        on_a = await open_socket(session, a, "ann")
        await on_a.send_json({"type": "chat", "message": '/call sleep {"seconds": 2}\n'
                                                         '/call echo {"text": "late"}'})
        head = await until(on_a, lambda f: f.get("type") == "tool_executing")
        run_id = head[0]["run_id"]
        a.process.send_signal(signal.SIGSTOP)  # alive, but silent past its lease
        try:
            ended_on_b = await until(on_b, lambda f: f.get("type") == "agent_completed",
                                     within_s=LEASE_S + 8)
        finally:
            a.process.send_signal(signal.SIGCONT)
        await asyncio.sleep(3)  # A wakes up, finishes its sleep and tries to go on
    kept = stored(redis_server.url, run_id)
    assert_well_formed(kept)
    assert sum(f["type"] == "agent_completed" for f in kept) == 1
    assert kept[-1]["data"]["error"]["type"] == "interrupted"
    assert [f for f in ended_on_b if f["run_id"] == run_id] == kept
