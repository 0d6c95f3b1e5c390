"""What only the Redis bus does: fan-out across instances, key expiry, surviving Redis trouble."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.blackhole_proxy import BlackholeProxy
from tests.fixtures_redis import RedisServer
from tests.support import event, eventually
from toolwire.adapters.redis_bus import QuotaLimits, RedisEventBus, RedisRunAdmission
from toolwire.adapters.redis_bus.bus import PING_FRESH_S
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.services.events import RunEvent

pytestmark = pytest.mark.redis

RETENTION_S = 60.0

MakeBus = Callable[..., RedisEventBus]


@pytest.fixture
async def make_bus(redis_url: str) -> AsyncIterator[MakeBus]:
    """Build bus instances on this test's server, as separate processes would; close them all."""
    built: list[RedisEventBus] = []

    def make(**options: Any) -> RedisEventBus:
        options = {"retention_s": RETENTION_S, "max_events": 3, **options}
        built.append(RedisEventBus(url=redis_url, **options))
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
    [(_, count)] = await client.pubsub_numsub(RedisKeys().user_channel(user_id))
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
    # (B publishes a run of its own: a run has one publisher, the instance that leases it.)
    await b.publish("alice", event("r2", 1))
    await eventually(lambda: len(on_a) >= 4)
    assert on_a == [*sent, event("r2", 1)]

    await a.publish("alice", event("r1", 4))
    await eventually(lambda: len(on_b) >= 5)
    assert on_b == [*sent, event("r2", 1), event("r1", 4)]
    assert await b.replay("r1", after_seq=2) == [event("r1", 3), event("r1", 4)]
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
    channel = RedisKeys().user_channel("alice")
    other = "f" * 32  # another instance's id
    bad: list[str | bytes] = [
        b"short",
        other + "not json",
        other + "[1, 2]",
        other + json.dumps({"type": "bogus"}),
        other.encode() + b"\xff\xfe",
    ]
    with caplog.at_level(logging.WARNING, logger="toolwire.adapters.redis_bus"):
        for payload in bad:
            await redis_client.publish(channel, payload)
        await a.publish("alice", event("r1", 1))
        await eventually(lambda: seen == [event("r1", 1)])
    assert sum("malformed" in record.getMessage() for record in caplog.records) == len(bad)


async def test_an_instance_drops_its_own_announcements_without_decoding_them(
    make_bus: MakeBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = make_bus(), make_bus()
    decoded: list[bytes] = []
    real = RunEvent.from_json

    def counting(text: str | bytes) -> RunEvent:
        decoded.append(text if isinstance(text, bytes) else text.encode())
        return real(text)

    monkeypatch.setattr(RunEvent, "from_json", staticmethod(counting))
    on_a: list[RunEvent] = []
    await a.subscribe("alice", on_a.append)
    for seq in range(1, 11):
        await a.publish("alice", event("r1", seq))
    await b.publish("alice", event("r2", 1))  # the channel keeps order: A's echoes came first
    await eventually(lambda: len(on_a) == 11)
    assert len(decoded) == 1  # only B's event was decoded on A
    assert on_a[-1] == event("r2", 1)


async def test_publish_sets_live_ttl_then_retention_ttl_and_trims_exactly(
    make_bus: MakeBus, redis_client: Redis
) -> None:
    bus = make_bus()
    stream, owner = bus.keys.stream("r1"), bus.keys.owner("r1")
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

    async def down() -> bool:
        return await bus.ping() is False

    started = time.monotonic()
    await eventually(down, within=5)  # the last answer stands PING_FRESH_S, then it probes
    assert time.monotonic() - started < PING_FRESH_S + 1.0  # and never waits long


async def test_a_bus_needs_no_server_until_used() -> None:
    bus = RedisEventBus(url="redis://127.0.0.1:9/0")
    assert bus.subscriber_count("alice") == 0
    await bus.aclose()
    assert await bus.ping() is False


CONTROL = RedisKeys().control_channel()


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


async def test_a_small_pool_makes_callers_wait_instead_of_failing(redis_url: str) -> None:
    bus = RedisEventBus(url=redis_url, pool_size=2, pool_timeout_s=10)
    other = RedisEventBus(url=redis_url)
    try:
        got: list[RunEvent] = []
        await other.subscribe("alice", got.append)

        async def one_run(n: int) -> None:
            for seq in (1, 2, 3):
                await bus.publish("alice", event(f"r{n}", seq))
            assert await bus.run_owner(f"r{n}") == "alice"
            assert len(await bus.replay(f"r{n}")) == 3

        await asyncio.gather(*(one_run(n) for n in range(150)))
        await eventually(lambda: len(got) == 450)
    finally:
        await bus.aclose()
        await other.aclose()


async def test_an_event_after_a_missed_announcement_brings_the_missed_ones_first(
    make_bus: MakeBus, redis_client: Redis
) -> None:
    a, b = make_bus(), make_bus()
    on_b: list[RunEvent] = []
    await b.subscribe("alice", on_b.append)
    await a.publish("alice", event("r1", 1))
    await eventually(lambda: len(on_b) == 1)
    for seq in (2, 3):  # stored, never announced: as if the announcements were lost
        await redis_client.xadd(a.keys.stream("r1"), {"event": event("r1", seq).to_json()},
                                id=f"{seq}-1")
    await a.publish("alice", event("r1", 4))
    await eventually(lambda: len(on_b) >= 4)
    await asyncio.sleep(0.05)
    assert [e.seq for e in on_b] == [1, 2, 3, 4]


async def admit(bus: RedisEventBus, run_id: str) -> None:
    """Admit a run of alice on `bus`'s Redis, as the supervisor does before the run starts."""
    admission = RedisRunAdmission(connector=bus.connector, keys=bus.keys, retention_s=RETENTION_S,
                                  limits=QuotaLimits(10, 100, 60))
    assert await admission.admit("alice", run_id, None) is None


async def _publish_run(bus: RedisEventBus, run_id: str, count: int) -> None:
    for seq in range(1, count + 1):
        await bus.publish("alice", event(run_id, seq, "agent_completed" if seq == count
                                         else "agent_thinking"))
        await asyncio.sleep(0.002)


async def test_killed_pubsub_connections_are_replaced_and_the_gap_is_filled(
    make_bus: MakeBus, redis_client: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = make_bus(max_events=1000), make_bus(max_events=1000)
    on_b: list[RunEvent] = []
    await b.subscribe("alice", on_b.append)
    running = asyncio.create_task(_publish_run(a, "r_long", 200))
    await eventually(lambda: len(on_b) >= 20)
    await redis_client.client_kill_filter(_type="pubsub")
    await admit(a, "r_new")  # as every run is before it publishes: noted in alice's runs
    during = asyncio.create_task(_publish_run(a, "r_new", 5))  # may start while B is away
    await asyncio.gather(running, during)
    await eventually(lambda: sum(e.type == "agent_completed" for e in on_b) == 2)
    await asyncio.sleep(0.05)
    for run_id, count in (("r_long", 200), ("r_new", 5)):
        assert [e.seq for e in on_b if e.run_id == run_id] == list(range(1, count + 1))
    assert "pub/sub lost" in caplog.text


async def test_a_silent_pubsub_connection_is_found_within_the_keepalive_and_leaves_no_gap(
    redis_url: str, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = BlackholeProxy(redis_server.port)
    await proxy.start()
    keepalive_s = 1.0
    a = RedisEventBus(url=redis_url)
    b = RedisEventBus(url=proxy.url, keepalive_s=keepalive_s)
    try:
        on_b: list[RunEvent] = []
        await b.subscribe("alice", on_b.append)
        await a.publish("alice", event("r1", 1))
        await eventually(lambda: len(on_b) == 1)

        proxy.silence()  # nothing flows on B's connections, and nothing tells B so
        silenced_at = time.monotonic()
        for seq in range(2, 6):
            await a.publish("alice", event("r1", seq))
        await eventually(lambda: "no answer from Redis" in caplog.text, within=3 * keepalive_s)
        detected_s = time.monotonic() - silenced_at
        await eventually(lambda: len(on_b) >= 5, within=3 * keepalive_s)
        await a.publish("alice", event("r1", 6, "agent_completed"))
        await eventually(lambda: len(on_b) >= 6)
        assert [e.seq for e in on_b] == [1, 2, 3, 4, 5, 6]
        assert detected_s <= keepalive_s * 1.5
    finally:
        await a.aclose()
        await b.aclose()
        await proxy.aclose()


async def test_subscribers_on_a_restarted_durable_redis_miss_nothing(
    durable_redis_server: RedisServer,
) -> None:
    a = RedisEventBus(url=durable_redis_server.url, reconnect_max_s=0.2)
    b = RedisEventBus(url=durable_redis_server.url, reconnect_max_s=0.2)
    try:
        on_b: list[RunEvent] = []
        await b.subscribe("alice", on_b.append)
        await a.publish("alice", event("r1", 1))
        await eventually(lambda: len(on_b) == 1)
        durable_redis_server.stop()
        durable_redis_server.start()
        for seq in range(2, 8):  # the first may land before B listens again
            await a.publish("alice", event("r1", seq))
        await eventually(lambda: len(on_b) >= 7, within=8.0)
        await asyncio.sleep(0.05)
        assert [e.seq for e in on_b] == list(range(1, 8))
        assert [e.seq for e in await b.replay("r1")] == list(range(1, 8))  # AOF kept seq 1
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_user_who_leaves_and_comes_straight_back_misses_nothing(
    make_bus: MakeBus,
) -> None:
    a, b = make_bus(), make_bus()
    got: list[RunEvent] = []

    def arrived(count: int) -> Callable[[], bool]:
        return lambda: len(got) == count

    for n in range(20):
        gone = await b.subscribe("alice", lambda _: None)
        await gone.close()
        back = await b.subscribe("alice", got.append)  # returns once Redis routes it here
        await a.publish("alice", event(f"r{n}", 1))
        await eventually(arrived(n + 1), within=2.0)
        await back.close()


async def test_a_run_whose_stream_was_evicted_has_no_owner(
    make_bus: MakeBus, redis_client: Redis
) -> None:
    bus = make_bus()
    await bus.publish("alice", event("r1", 1))
    await redis_client.delete(bus.keys.stream("r1"))  # as maxmemory eviction would
    assert await bus.run_owner("r1") is None  # so resume answers not_found


async def test_events_taken_ahead_never_overtake_one_that_failed(
    make_bus: MakeBus, redis_client: Redis,
) -> None:
    bus = make_bus(max_events=100)
    got: list[RunEvent] = []
    await bus.subscribe("ann", got.append)
    stream = RedisKeys().stream("r_1")
    await redis_client.set(stream, "not a stream")  # the run's first XADD fails
    first = [bus.publish_soon("ann", event("r_1", seq)) for seq in (1, 2)]  # one batch
    await asyncio.wait(first)
    assert isinstance(first[0].exception(), Exception)
    assert "SKIPPED" in str(first[1].exception())  # not stored past the failed seq 1
    await redis_client.delete(stream)
    later = bus.publish_soon("ann", event("r_1", 3))  # Redis is fine now, but 1 is missing
    await asyncio.wait([later])
    assert isinstance(later.exception(), ConnectionError)
    assert await bus.replay("r_1") == []
    for seq in (1, 2, 3):  # the run publishes again from the failed event, in order
        await bus.publish("ann", event("r_1", seq))
    assert [e.seq for e in await bus.replay("r_1")] == [1, 2, 3]
    assert [e.seq for e in got] == [1, 2, 3]
    ahead = [bus.publish_soon("ann", event("r_1", seq)) for seq in (4, 5)]
    await asyncio.gather(*ahead)
    assert [e.seq for e in got] == [1, 2, 3, 4, 5]
