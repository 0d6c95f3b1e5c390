"""What only the Redis bus does: fan-out across instances, key expiry, surviving Redis trouble."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from tests.fixtures_redis import RedisServer
from tests.support import event, eventually
from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.services.events import RunEvent

pytestmark = pytest.mark.redis

RETENTION_S = 60.0

MakeBus = Callable[[], RedisEventBus]


@pytest.fixture
async def make_bus(redis_url: str) -> AsyncIterator[MakeBus]:
    """Build bus instances on this test's server, as separate processes would; close them all."""
    built: list[RedisEventBus] = []

    def make() -> RedisEventBus:
        built.append(RedisEventBus(url=redis_url, retention_s=RETENTION_S, max_events=3))
        return built[-1]

    yield make
    for bus in reversed(built):
        await bus.aclose()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def listeners(client: Redis, user_id: str) -> int:
    """Return how many pub/sub connections listen on the user's channel."""
    [(_, count)] = await client.pubsub_numsub(f"toolwire:user:{user_id}")
    return int(count)


async def test_events_cross_instances_exactly_once_and_local_ones_do_not_echo(
    make_bus: MakeBus,
) -> None:
    a, b = make_bus(), make_bus()
    on_a: list[RunEvent] = []
    on_b: list[RunEvent] = []
    await a.subscribe("alice", on_a.append)
    await b.subscribe("alice", on_b.append)

    sent = [event("r1", seq) for seq in (1, 2, 3)]
    for each in sent:
        await a.publish("alice", each)
    await eventually(lambda: on_b == sent)

    # Pub/sub keeps order per channel: once B's event reaches A, A's own echoes have come back.
    await b.publish("alice", event("r1", 4))
    await eventually(lambda: len(on_a) >= 4)
    assert on_a == [*sent, event("r1", 4)]

    await a.publish("alice", event("r1", 5))
    await eventually(lambda: len(on_b) >= 5)
    assert on_b == [*sent, event("r1", 4), event("r1", 5)]
    assert await b.replay("r1", after_seq=3) == [event("r1", 4), event("r1", 5)]
    assert await b.run_owner("r1") == "alice"


async def test_subscribe_returns_once_the_channel_listens_and_the_last_close_leaves_it(
    make_bus: MakeBus, redis_client: Redis
) -> None:
    bus = make_bus()
    first = await bus.subscribe("alice", lambda _: None)
    assert await listeners(redis_client, "alice") == 1
    second = await bus.subscribe("alice", lambda _: None)
    await first.close()
    assert await listeners(redis_client, "alice") == 1
    await second.close()
    assert bus.subscriber_count("alice") == 0
    await eventually(lambda: _no_listeners(redis_client, "alice"))


async def _no_listeners(client: Redis, user_id: str) -> bool:
    return await listeners(client, user_id) == 0


async def test_listener_survives_malformed_messages(
    make_bus: MakeBus, redis_client: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = make_bus(), make_bus()
    seen: list[RunEvent] = []
    await b.subscribe("alice", seen.append)
    channel = "toolwire:user:alice"
    bad: list[str | bytes] = [
        b"not json",
        b"[1, 2]",
        b'{"origin": "elsewhere"}',
        json.dumps({"origin": "x", "user_id": "alice", "event": {"type": "bogus"}}),
        json.dumps({"origin": "x", "user_id": "mallory", "event": event("r9", 1).to_wire()}),
    ]
    with caplog.at_level(logging.WARNING, logger="toolwire.adapters.redis_bus"):
        for payload in bad:
            await redis_client.publish(channel, payload)
        await a.publish("alice", event("r1", 1))
        await eventually(lambda: seen == [event("r1", 1)])
    assert sum("malformed" in record.getMessage() for record in caplog.records) == len(bad)


async def test_publish_sets_live_ttl_then_retention_ttl_and_trims_exactly(
    make_bus: MakeBus, redis_client: Redis
) -> None:
    bus = make_bus()
    stream, owner = "toolwire:run:r1", "toolwire:run:r1:owner"
    for seq in (1, 2, 3, 4):
        await bus.publish("alice", event("r1", seq))
    assert await redis_client.xlen(stream) == 3
    assert await redis_client.pttl(stream) > RETENTION_S * 1000 + 3600_000
    assert await redis_client.pttl(owner) > RETENTION_S * 1000 + 3600_000

    await bus.publish("alice", event("r1", 5, "agent_completed"))
    for key in (stream, owner):
        assert 0 < await redis_client.pttl(key) <= RETENTION_S * 1000


async def test_subscribers_come_back_after_redis_restarts(
    make_bus: MakeBus, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = make_bus(), make_bus()
    seen: list[RunEvent] = []
    await b.subscribe("alice", seen.append)

    redis_server.stop()
    redis_server.start()
    async with Redis.from_url(redis_server.url) as client:
        await eventually(lambda: _listens(client, "alice"), within=8.0)
    await a.publish("alice", event("r1", 1))
    await eventually(lambda: seen == [event("r1", 1)])
    assert "pub/sub lost" in caplog.text


async def _listens(client: Redis, user_id: str) -> bool:
    return await listeners(client, user_id) == 1


async def test_ping_is_false_when_redis_is_gone(
    make_bus: MakeBus, redis_server: RedisServer
) -> None:
    bus = make_bus()
    assert await bus.ping() is True
    redis_server.stop()
    async with asyncio.timeout(10):  # a hang guard: ping answers False, it does not wait
        assert await bus.ping() is False


async def test_a_bus_needs_no_server_until_used() -> None:
    bus = RedisEventBus(url="redis://127.0.0.1:9/0")
    assert bus.subscriber_count("alice") == 0
    await bus.aclose()
    assert await bus.ping() is False


CONTROL = "toolwire:control"


async def control_listeners(client: Redis) -> int:
    """Return how many pub/sub connections listen on the control channel."""
    [(_, count)] = await client.pubsub_numsub(CONTROL)
    return int(count)


async def test_cancel_requests_cross_instances_exactly_once_and_do_not_echo(
    make_bus: MakeBus,
) -> None:
    a, b = make_bus(), make_bus()
    on_a: list[str] = []
    on_b: list[str] = []
    await a.on_cancel(on_a.append)
    await b.on_cancel(on_b.append)

    await a.request_cancel("r1")
    await eventually(lambda: on_b == ["r1"])
    # The channel keeps order: once B's request reaches A, A's own echo of r1 has come back.
    await b.request_cancel("r2")
    await eventually(lambda: len(on_a) >= 2)
    assert on_a == ["r1", "r2"]
    await a.request_cancel("r3")
    await eventually(lambda: len(on_b) >= 3)
    assert on_b == ["r1", "r2", "r3"]


async def test_only_a_bus_with_cancel_handlers_listens_on_the_control_channel(
    make_bus: MakeBus, redis_client: Redis
) -> None:
    bus = make_bus()
    await bus.subscribe("alice", lambda _: None)
    assert await control_listeners(redis_client) == 0
    first = await bus.on_cancel(lambda _: None)
    assert await control_listeners(redis_client) == 1
    second = await bus.on_cancel(lambda _: None)
    await first.close()
    assert await control_listeners(redis_client) == 1
    await second.close()
    await eventually(lambda: _no_control_listeners(redis_client))


async def _no_control_listeners(client: Redis) -> bool:
    return await control_listeners(client) == 0


async def test_malformed_cancel_requests_are_dropped(
    make_bus: MakeBus, redis_client: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = make_bus(), make_bus()
    seen: list[str] = []
    await b.on_cancel(seen.append)
    bad: list[str | bytes] = [
        b"not json",
        b"[1, 2]",
        b'{"origin": "elsewhere"}',
        json.dumps({"origin": "x", "run_id": 7}),
    ]
    with caplog.at_level(logging.WARNING, logger="toolwire.adapters.redis_bus"):
        for payload in bad:
            await redis_client.publish(CONTROL, payload)
        await a.request_cancel("r1")
        await eventually(lambda: seen == ["r1"])
    assert sum("malformed cancel" in record.getMessage() for record in caplog.records) == len(bad)


async def test_cancel_handlers_come_back_after_redis_restarts(
    make_bus: MakeBus, redis_server: RedisServer
) -> None:
    a, b = make_bus(), make_bus()
    seen: list[str] = []
    await b.on_cancel(seen.append)

    redis_server.stop()
    redis_server.start()
    async with Redis.from_url(redis_server.url) as client:
        await eventually(lambda: _control_listens(client), within=8.0)
    await a.request_cancel("r1")
    await eventually(lambda: seen == ["r1"])


async def _control_listens(client: Redis) -> bool:
    return await control_listeners(client) == 1
