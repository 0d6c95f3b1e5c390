"""One contract for every `EventBus`: memory, Redis and Redis Cluster behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support import event, eventually
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.services.events import RunEvent
from toolwire.services.ports import EventBus

RETENTION_S = 0.5
MAX_EVENTS = 5


class FakeClock:
    """A monotonic clock the memory bus reads; Redis keeps real time, so it ignores it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Bus = InMemoryEventBus | RedisEventBus


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=[
    "memory",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("redis-cluster", marks=pytest.mark.redis),
])
async def bus(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[Bus]:
    built: Bus
    if request.param == "memory":
        built = InMemoryEventBus(retention_s=RETENTION_S, max_events=MAX_EVENTS, clock=clock)
    elif request.param == "redis":
        url = request.getfixturevalue("redis_url")
        built = RedisEventBus(url=url, retention_s=RETENTION_S, max_events=MAX_EVENTS)
    else:
        url = request.getfixturevalue("redis_cluster_url")
        built = RedisEventBus(
            url=url, cluster=True, retention_s=RETENTION_S, max_events=MAX_EVENTS)
    yield built
    await built.aclose()


def test_both_buses_implement_the_port(bus: Bus) -> None:
    assert isinstance(bus, EventBus)


async def test_every_subscriber_of_the_user_gets_its_events_in_order(bus: Bus) -> None:
    first: list[RunEvent] = []
    second: list[RunEvent] = []
    await bus.subscribe("alice", first.append)
    await bus.subscribe("alice", second.append)
    sent = [event("r1", seq) for seq in (1, 2, 3)]
    for each in sent:
        await bus.publish("alice", each)
    await eventually(lambda: first == sent and second == sent)
    assert bus.subscriber_count("alice") == 2


async def test_another_users_subscriber_gets_none_of_them(bus: Bus) -> None:
    alice: list[RunEvent] = []
    bob: list[RunEvent] = []
    await bus.subscribe("alice", alice.append)
    await bus.subscribe("bob", bob.append)
    await bus.publish("alice", event("r1", 1))
    barrier = event("r2", 1)
    await bus.publish("bob", barrier)
    await eventually(lambda: bob == [barrier])
    assert alice == [event("r1", 1)]


async def test_a_failing_subscriber_does_not_stop_the_others(bus: Bus) -> None:
    def explode(_: RunEvent) -> None:
        raise RuntimeError("subscriber bug")

    seen: list[RunEvent] = []
    await bus.subscribe("alice", explode)
    await bus.subscribe("alice", seen.append)
    await bus.publish("alice", event("r1", 1))
    await eventually(lambda: seen == [event("r1", 1)])


async def test_replay_returns_exactly_the_events_after_seq(bus: Bus) -> None:
    sent = [event("r1", seq) for seq in (1, 2, 3, 4)]
    for each in sent:
        await bus.publish("alice", each)
    await bus.publish("alice", event("other", 1))
    assert await bus.replay("r1", after_seq=2) == sent[2:]
    assert await bus.replay("r1") == sent
    assert await bus.replay("r1", after_seq=4) == []
    assert await bus.replay("unknown") == []


async def test_run_owner_is_the_publishing_user(bus: Bus) -> None:
    await bus.publish("alice", event("r1", 1))
    assert await bus.run_owner("r1") == "alice"
    assert await bus.run_owner("unknown") is None


async def test_a_closed_subscription_gets_nothing_more(bus: Bus) -> None:
    closed: list[RunEvent] = []
    kept: list[RunEvent] = []
    sub = await bus.subscribe("alice", closed.append)
    await bus.subscribe("alice", kept.append)
    await bus.publish("alice", event("r1", 1))
    await sub.close()
    assert bus.subscriber_count("alice") == 1
    await bus.publish("alice", event("r1", 2))
    await eventually(lambda: kept == [event("r1", 1), event("r1", 2)])
    assert closed == [event("r1", 1)]


async def test_max_events_bounds_the_log(bus: Bus) -> None:
    sent = [event("r1", seq) for seq in range(1, MAX_EVENTS + 4)]
    for each in sent:
        await bus.publish("alice", each)
    assert await bus.replay("r1") == sent[-MAX_EVENTS:]


async def test_an_ended_run_expires_after_retention_a_running_one_stays(
    bus: Bus, clock: FakeClock
) -> None:
    await bus.publish("alice", event("live", 1))
    await bus.publish("alice", event("done", 1))
    await bus.publish("alice", event("done", 2, "agent_completed"))
    assert [e.seq for e in await bus.replay("done")] == [1, 2]

    clock.advance(RETENTION_S + 0.1)

    async def done_is_gone() -> bool:
        return await bus.replay("done") == [] and await bus.run_owner("done") is None

    await eventually(done_is_gone)
    assert await bus.replay("live") == [event("live", 1)]
    assert await bus.run_owner("live") == "alice"


async def test_ping_answers_true(bus: Bus) -> None:
    assert await bus.ping() is True


async def test_request_cancel_reaches_every_cancel_handler(bus: Bus) -> None:
    first: list[str] = []
    second: list[str] = []
    await bus.on_cancel(first.append)
    await bus.on_cancel(second.append)
    await bus.request_cancel("r1")
    await bus.request_cancel("r2")
    await eventually(lambda: first == ["r1", "r2"] and second == ["r1", "r2"])


async def test_a_closed_cancel_handler_gets_no_more_requests(bus: Bus) -> None:
    closed: list[str] = []
    kept: list[str] = []
    listening = await bus.on_cancel(closed.append)
    await bus.on_cancel(kept.append)
    await bus.request_cancel("r1")
    await listening.close()
    await bus.request_cancel("r2")
    await eventually(lambda: kept == ["r1", "r2"])
    assert closed == ["r1"]


async def test_a_failing_cancel_handler_does_not_stop_the_others(bus: Bus) -> None:
    def explode(_: str) -> None:
        raise RuntimeError("handler bug")

    seen: list[str] = []
    await bus.on_cancel(explode)
    await bus.on_cancel(seen.append)
    await bus.request_cancel("r1")
    await eventually(lambda: seen == ["r1"])


async def test_a_repeated_seq_is_kept_and_delivered_once(bus: Bus) -> None:
    got: list[RunEvent] = []
    await bus.subscribe("u1", got.append)
    for seq in (1, 2, 2, 1, 3):
        await bus.publish("u1", event("r_dup", seq))
    await eventually(lambda: len(got) >= 3)
    await asyncio.sleep(0.05)  # give a wrong second delivery the chance to arrive
    assert [e.seq for e in got] == [1, 2, 3]
    assert [e.seq for e in await bus.replay("r_dup")] == [1, 2, 3]
