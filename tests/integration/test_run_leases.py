"""Run ownership on the Redis bus: leases, the one survivor that ends a dead owner's run,
fencing of an owner that lost its run, and cancels that cannot be lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis, RedisCluster

from tests.fixtures_redis import RedisServer
from tests.support import eventually
from toolwire.adapters.redis_bus import RedisEventBus
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.services.errors import RunTakenOverError, UnavailableError
from toolwire.services.events import AgentStarted, RunEvent, ToolExecuting
from toolwire.testing import assert_well_formed

pytestmark = pytest.mark.redis

LEASE_S = 0.6
MakeBus = Callable[..., RedisEventBus]


@pytest.fixture(params=["redis", "redis-cluster"])
def target(request: pytest.FixtureRequest) -> tuple[str, bool]:
    """One redis-server, or a 3-master Redis Cluster: the URL and whether it is a cluster."""
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url")), False
    return str(request.getfixturevalue("redis_cluster_url")), True


@pytest.fixture
async def make_bus(target: tuple[str, bool]) -> AsyncIterator[MakeBus]:
    """Build bus instances on one Redis, as separate processes would; close them all."""
    url, cluster = target
    built: list[RedisEventBus] = []

    def make(**options: Any) -> RedisEventBus:
        built.append(RedisEventBus(url=url, cluster=cluster, lease_s=LEASE_S, **options))
        return built[-1]

    yield make
    for bus in reversed(built):
        await bus.aclose()


@pytest.fixture
async def redis_client(target: tuple[str, bool]) -> AsyncIterator[Redis | RedisCluster]:
    url, cluster = target
    client: Redis | RedisCluster = RedisCluster.from_url(url) if cluster else Redis.from_url(url)
    yield client
    await client.aclose()


def started(run_id: str) -> RunEvent:
    return RunEvent.stamp(AgentStarted("embedded", "hi", "q1"), run_id=run_id,
                          thread_id="t_1", seq=1)


def executing(run_id: str, seq: int, call_id: str) -> RunEvent:
    return RunEvent.stamp(ToolExecuting("sleep", call_id, {"seconds": 5}), run_id=run_id,
                          thread_id="t_1", seq=seq)


async def start_run(owner: RedisEventBus, run_id: str = "r_1") -> None:
    """Publish a run's start and one open tool call on `owner` (leasing the run there)."""
    await owner.publish("ann", started(run_id))
    await owner.publish("ann", executing(run_id, 2, "c1"))


async def test_a_dead_owners_run_is_ended_once_by_a_survivor_continuing_its_seq(
    make_bus: MakeBus,
) -> None:
    owner, survivors = make_bus(), [make_bus() for _ in range(3)]
    seen: list[RunEvent] = []
    await survivors[0].subscribe("ann", seen.append)
    for bus in survivors:
        await bus.on_cancel(lambda _: None)  # a serving instance: it sweeps for lapsed leases
    await start_run(owner)
    await owner.aclose()  # dies: nothing renews its lease any more
    loop = asyncio.get_running_loop()
    died = loop.time()
    await eventually(lambda: any(e.type == "agent_completed" for e in seen), within=10)
    took = loop.time() - died
    assert took < LEASE_S + 4  # lease_s and a few seconds, on a busy machine too
    kept = await survivors[1].replay("r_1")
    assert_well_formed(kept)
    assert [e.type for e in kept] == ["agent_started", "tool_executing", "tool_completed",
                                      "agent_completed"]
    assert kept[2].data["status"] == "cancelled" and kept[2].data["call_id"] == "c1"
    assert kept[3].data["status"] == "error"
    assert kept[3].data["error"]["type"] == "interrupted"
    await asyncio.sleep(LEASE_S * 2)  # the other survivors had their chance too
    assert len(await survivors[2].replay("r_1")) == 4
    assert [e.seq for e in seen] == [1, 2, 3, 4]


async def test_a_live_owner_keeps_its_run_however_often_others_look(make_bus: MakeBus) -> None:
    owner, other = make_bus(), make_bus()
    await other.on_cancel(lambda _: None)
    await start_run(owner)
    await asyncio.sleep(LEASE_S * 4)  # the other instance swept several times meanwhile
    assert len(await other.replay("r_1")) == 2
    await owner.publish("ann", executing("r_1", 3, "c2"))  # still its own
    assert [e.seq for e in await other.replay("r_1")] == [1, 2, 3]


async def test_an_owner_that_lost_its_lease_cannot_add_to_the_run(
    make_bus: MakeBus, redis_client: Redis | RedisCluster,
) -> None:
    owner, other = make_bus(), make_bus()
    await start_run(owner)
    await owner.run_closed("r_1")  # stop renewing, as a paused process would
    await redis_client.delete(RedisKeys().lease("r_1"))  # its lease lapsed
    got: list[str] = []
    await other.on_cancel(got.append)
    await other.request_cancel("r_1")  # nobody owns it: this answer is its end
    kept = await other.replay("r_1")
    assert kept[-1].type == "agent_completed" and kept[-1].seq == 4
    with pytest.raises(RunTakenOverError):
        await owner.publish("ann", executing("r_1", 3, "late"))
    assert [e.seq for e in await other.replay("r_1")] == [1, 2, 3, 4]
    assert got == []  # ended, so no instance was asked to cancel it


async def test_a_cancel_whose_announcement_was_missed_reaches_the_owner_at_its_renewal(
    make_bus: MakeBus, redis_client: Redis | RedisCluster,
) -> None:
    owner = make_bus()
    cancelled: list[str] = []
    await owner.on_cancel(cancelled.append)
    await start_run(owner)
    # The request is recorded but its announcement never arrives (a dropped pub/sub link).
    await redis_client.set(RedisKeys().cancel("r_1"), "elsewhere")
    await eventually(lambda: cancelled == ["r_1"], within=LEASE_S * 2)


async def test_a_cancel_that_cannot_be_recorded_says_unavailable(
    redis_server: RedisServer,
) -> None:
    bus = RedisEventBus(url=redis_server.url, lease_s=LEASE_S)
    await start_run(bus)
    redis_server.stop()
    with pytest.raises(UnavailableError) as refused:
        await bus.request_cancel("r_1")
    assert str(redis_server.port) not in str(refused.value)
    with pytest.raises(UnavailableError):
        await bus.replay("r_1")
    await bus.aclose()
