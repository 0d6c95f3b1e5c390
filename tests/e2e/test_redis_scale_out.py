"""Two real `toolwire serve` processes on one real `redis-server`: load and Redis faults."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import redis

from tests.e2e.served import Served, serve
from tests.fixtures_redis import RedisServer
from tests.support import eventually
from toolwire.testing import assert_well_formed

pytestmark = pytest.mark.redis

Frame = dict[str, Any]
USERS = 200
CHATS_PER_USER = 10  # 2000 chats: the load at which the old bus refused 544


@pytest.fixture
async def instances(durable_redis_server: RedisServer) -> AsyncIterator[tuple[Served, ...]]:
    """Two instances on one durable Redis; stopped with SIGTERM, then killed if they linger."""
    settings = {
        "TOOLWIRE_LOG_LEVEL": "WARNING", "TOOLWIRE_EVENTS__BACKEND": "redis",
        "TOOLWIRE_EVENTS__REDIS_URL": durable_redis_server.url,
        "TOOLWIRE_EVENTS__REDIS_KEEPALIVE_S": "1", "TOOLWIRE_EVENTS__REDIS_RECONNECT_MAX_S": "0.5",
        "TOOLWIRE_RUNS__SHUTDOWN_GRACE_S": "1",
    }
    async with contextlib.AsyncExitStack() as stack:
        yield tuple([await stack.enter_async_context(serve(**settings)) for _ in range(2)])


@dataclass
class UserSockets:
    """One user's sockets (one per instance) and every frame each received."""

    user: str
    sockets: list[aiohttp.ClientWebSocketResponse]
    frames: list[list[Frame]] = field(default_factory=list)


async def _connect(session: aiohttp.ClientSession, user: str, urls: list[str]) -> UserSockets:
    async with session.post(f"{urls[0]}/auth/token", json={"user_id": user}) as response:
        token = (await response.json())["access_token"]
    sockets = [await session.ws_connect(f"{url}/ws", headers={"Authorization": f"Bearer {token}"})
               for url in urls]
    return UserSockets(user, sockets, [[] for _ in sockets])


async def _read_until_completed(user: UserSockets, index: int, runs: int,
                                within_s: float) -> None:
    """Collect frames on one socket until `runs` runs completed there."""
    ws, frames = user.sockets[index], user.frames[index]
    async with asyncio.timeout(within_s):
        while sum(f.get("type") == "agent_completed" for f in frames) < runs:
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.TEXT, f"{user.user}: {msg}"
            frames.append(msg.json())
            assert frames[-1]["type"] != "error", f"{user.user}: {frames[-1]}"


def _runs_of(frames: list[Frame]) -> dict[str, list[Frame]]:
    runs: dict[str, list[Frame]] = {}
    for frame in frames:
        runs.setdefault(frame["run_id"], []).append(frame)
    return runs


def _check_user(user: UserSockets, expected_runs: int) -> None:
    """Every socket holds every run of the user exactly once, well-formed, and nothing else."""
    first = _runs_of(user.frames[0])
    assert len(first) == expected_runs, (user.user, list(first))
    for frames in user.frames:
        runs = _runs_of(frames)
        assert runs.keys() == first.keys(), user.user
        for run_id, events in runs.items():
            seqs = Counter(e["seq"] for e in events)
            assert [s for s, n in seqs.items() if n > 1] == [], f"{user.user} duplicated {run_id}"
            assert_well_formed(events)  # seq 1..n with no gap: nothing lost
            started = events[0]["data"]["request_id"]
            assert started.startswith(f"{user.user}-"), f"{user.user} got {started}: foreign"


async def _one_user(session: aiohttp.ClientSession, user: str, urls: list[str]) -> UserSockets:
    sockets = await _connect(session, user, urls)
    for n in range(CHATS_PER_USER):
        ws = sockets.sockets[n % len(urls)]  # alternate the instance that runs the chat
        await ws.send_json({"type": "chat", "message": f"what is {n}*7?",
                            "request_id": f"{user}-{n}"})
        await asyncio.gather(*(_read_until_completed(sockets, i, n + 1, 60)
                               for i in range(len(urls))))
    return sockets


@pytest.mark.scale
async def test_200_users_on_two_instances_lose_nothing_and_see_only_their_runs(
    instances: tuple[Served, ...],
) -> None:
    urls = [each.url for each in instances]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        users = await asyncio.gather(*(_one_user(session, f"u{n:03d}", urls)
                                       for n in range(USERS)))
        for user in users:
            _check_user(user, CHATS_PER_USER)
        # A resume on the other instance replays a whole ended run, once.
        resumed = users[:20]
        for user in resumed:
            run_id = user.frames[0][0]["run_id"]
            await user.sockets[1].send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
        await asyncio.gather(*(_read_until_completed(user, 1, CHATS_PER_USER + 1, 30)
                               for user in resumed))
        for user in resumed:
            replay = user.frames[1][-len(_runs_of(user.frames[0])[user.frames[0][0]["run_id"]]):]
            assert replay == _runs_of(user.frames[0])[user.frames[0][0]["run_id"]]
        # Cancelling an own ended run from the other instance is a quiet no-op for everyone.
        await asyncio.gather(*(_cancel_ended(user) for user in users))
        for user in users:
            for ws in user.sockets:
                await ws.close()


async def _cancel_ended(user: UserSockets) -> None:
    ws = user.sockets[1]
    await ws.send_json({"type": "cancel", "run_id": user.frames[0][0]["run_id"]})
    await ws.send_json({"type": "ping"})
    assert await ws.receive_json(timeout=30) == {"type": "pong"}, user.user


LONG_RUN = "\n".join(['/call sleep {"seconds": 0.03}'] * 30)  # 93 events over about 1.5 s


def _restart(server: RedisServer) -> None:
    server.stop()
    server.start()


def _kill_pubsub(server: RedisServer) -> None:
    with redis.Redis(port=server.port) as client:
        client.client_kill_filter(_type="pubsub")


@pytest.mark.parametrize("fault", [_restart, _kill_pubsub], ids=["restart", "kill-pubsub"])
async def test_a_redis_fault_mid_run_leaves_no_gap_on_either_instance(
    instances: tuple[Served, ...], durable_redis_server: RedisServer, fault: Any,
) -> None:
    urls = [each.url for each in instances]
    async with aiohttp.ClientSession() as session:
        ada = await _connect(session, "ada", urls)
        await ada.sockets[0].send_json(
            {"type": "chat", "message": LONG_RUN, "request_id": "ada-long"})
        reading = asyncio.gather(*(_read_until_completed(ada, i, 1, 60) for i in range(2)))
        await eventually(lambda: len(ada.frames[1]) >= 15)  # the other instance is well in
        await asyncio.to_thread(fault, durable_redis_server)
        await reading
        _check_user(ada, 1)
        assert ada.frames[0] == ada.frames[1]
        assert len(ada.frames[0]) == 93
        assert ada.frames[0][-1]["data"]["status"] == "ok"
        for ws in ada.sockets:
            await ws.close()
