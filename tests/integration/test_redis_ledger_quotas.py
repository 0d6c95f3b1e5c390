"""The request ledger, the user quotas and the run admission on Redis hold for every instance
together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from tests.fixtures_redis import RedisServer
from toolwire.adapters.redis_bus import (
    QuotaLimits,
    RedisEventBus,
    RedisRequestLedger,
    RedisRunAdmission,
    RedisUserQuotas,
)
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.services.errors import RateLimitedError, UnavailableError
from toolwire.services.events import AgentStarted, RunEvent

pytestmark = pytest.mark.redis

RETENTION_S = 30.0
Instance = tuple[RedisEventBus, RedisRequestLedger, RedisUserQuotas]
MakeInstance = Callable[..., Instance]


@pytest.fixture
async def make_instance(redis_url: str) -> AsyncIterator[MakeInstance]:
    """Build an instance's bus, ledger and quotas as the container does; close them all."""
    built: list[RedisEventBus] = []

    def make(runs_per_user: int = 2, chats_per_minute: int = 100,
             lease_s: float = 10.0) -> Instance:
        bus = RedisEventBus(url=redis_url, retention_s=RETENTION_S, lease_s=lease_s)
        built.append(bus)
        ledger = RedisRequestLedger(connector=bus.connector, keys=bus.keys,
                                    retention_s=RETENTION_S)
        quotas = RedisUserQuotas(connector=bus.connector, keys=bus.keys,
                                 limits=QuotaLimits(runs_per_user, chats_per_minute, 60))
        return bus, ledger, quotas

    yield make
    for bus in reversed(built):
        await bus.aclose()


async def test_a_request_id_is_claimed_once_across_instances(make_instance: MakeInstance,
                                                             redis_url: str) -> None:
    ledgers = [make_instance()[1] for _ in range(4)]
    claims = await asyncio.gather(*(
        ledger.claim("ann", "q1", f"r_{n}") for n, ledger in enumerate(ledgers * 3)))
    winners = [n for n, held in enumerate(claims) if held is None]
    assert len(winners) == 1
    assert set(claims) == {None, f"r_{winners[0]}"}
    assert await ledgers[2].claim("bob", "q1", "r_bob") is None  # per user


async def test_a_settled_claim_lasts_retention_s_and_only_its_run_touches_it(
    make_instance: MakeInstance, redis_url: str,
) -> None:
    (_, a, _), (_, b, _) = make_instance(), make_instance()
    assert await a.claim("ann", "q1", "r_1") is None
    await b.release("ann", "q1", "r_other")  # not its claim: no effect
    await b.settle("ann", "q1", "r_other")
    client = Redis.from_url(redis_url)
    key = RedisKeys().request("ann", "q1")
    assert await client.pttl(key) > RETENTION_S * 1000 * 10  # still live
    await b.settle("ann", "q1", "r_1")
    assert 0 < await client.pttl(key) <= RETENTION_S * 1000
    assert await b.claim("ann", "q1", "r_2") == "r_1"
    await a.release("ann", "q1", "r_1")
    assert await b.claim("ann", "q1", "r_2") is None
    await client.aclose()


async def test_runs_per_user_holds_for_all_instances_together(
    make_instance: MakeInstance,
) -> None:
    (_, _, a), (_, _, b) = make_instance(runs_per_user=2), make_instance(runs_per_user=2)
    await a.admit("ann", "r_1")
    await b.admit("ann", "r_2")
    with pytest.raises(RateLimitedError, match=r"limits\.runs_per_user"):
        await a.admit("ann", "r_3")
    await b.admit("bob", "r_4")  # another user's quota
    await a.release("ann", "r_2")  # released anywhere
    await b.admit("ann", "r_3")


async def test_chats_per_minute_holds_for_all_instances_together(
    make_instance: MakeInstance,
) -> None:
    quotas = [make_instance(runs_per_user=100, chats_per_minute=3)[2] for _ in range(3)]
    for n, each in enumerate(quotas):
        await each.admit("ann", f"r_{n}")
    with pytest.raises(RateLimitedError, match=r"limits.chats_per_minute\); retry in \d+ s"):
        await quotas[0].admit("ann", "r_9")


async def test_check_refuses_what_admit_would_and_counts_nothing(
    make_instance: MakeInstance,
) -> None:
    quotas = [make_instance(runs_per_user=1, chats_per_minute=2)[2] for _ in range(2)]
    await quotas[1].check("ann")
    await quotas[1].check("ann")  # a check counts no chat and no run
    await quotas[0].admit("ann", "r_1")
    with pytest.raises(RateLimitedError, match=r"limits\.runs_per_user"):
        await quotas[1].check("ann")  # another instance sees the run going
    await quotas[0].release("ann", "r_1")
    await quotas[1].admit("ann", "r_2")  # the second chat of the minute: checks counted none
    await quotas[1].release("ann", "r_2")
    with pytest.raises(RateLimitedError, match=r"limits\.chats_per_minute"):
        await quotas[0].check("ann")


async def test_concurrent_admissions_never_pass_the_quota(make_instance: MakeInstance) -> None:
    quotas = [make_instance(runs_per_user=3)[2] for _ in range(4)]
    outcomes = await asyncio.gather(
        *(each.admit("ann", f"r_{n}_{m}") for n, each in enumerate(quotas) for m in range(5)),
        return_exceptions=True)
    assert sum(outcome is None for outcome in outcomes) == 3
    assert all(isinstance(o, RateLimitedError) for o in outcomes if o is not None)


async def test_an_interrupted_run_frees_its_quota_place_and_settles_its_request(
    make_instance: MakeInstance, redis_url: str,
) -> None:
    owner_bus, owner_ledger, owner_quotas = make_instance(runs_per_user=1, lease_s=0.5)
    survivor_bus, survivor_ledger, survivor_quotas = make_instance(runs_per_user=1)
    assert await owner_ledger.claim("ann", "q1", "r_1") is None
    await owner_quotas.admit("ann", "r_1")
    await owner_bus.publish("ann", RunEvent.stamp(AgentStarted("embedded", "hi", "q1"),
                                                  run_id="r_1", thread_id="t_1", seq=1))
    await owner_bus.aclose()  # dies with the run going
    await asyncio.sleep(0.7)
    await survivor_bus.request_cancel("r_1")  # no live owner: answered with the run's end
    assert (await survivor_bus.replay("r_1"))[-1].type == "agent_completed"
    await survivor_quotas.admit("ann", "r_2")  # the dead run's place is free
    client = Redis.from_url(redis_url)
    assert 0 < await client.pttl(RedisKeys().request("ann", "q1")) <= RETENTION_S * 1000
    assert await survivor_ledger.claim("ann", "q1", "r_3") == "r_1"
    await client.aclose()


async def test_ledger_and_quotas_say_unavailable_when_redis_is_down(
    make_instance: MakeInstance, redis_server: RedisServer,
) -> None:
    _, ledger, quotas = make_instance()
    redis_server.stop()
    with pytest.raises(UnavailableError) as refused:
        await ledger.claim("ann", "q1", "r_1")
    assert str(redis_server.port) not in str(refused.value)
    with pytest.raises(UnavailableError):
        await quotas.admit("ann", "r_1")


def admission_of(bus: RedisEventBus, runs_per_user: int = 2) -> RedisRunAdmission:
    """Return the run admission the container builds beside `bus`."""
    return RedisRunAdmission(connector=bus.connector, keys=bus.keys, retention_s=RETENTION_S,
                             limits=QuotaLimits(runs_per_user, 100, 60))


async def test_an_admitted_run_is_in_its_users_run_index_until_released(
    make_instance: MakeInstance, redis_url: str,
) -> None:
    bus, _, _ = make_instance()
    admission = admission_of(bus)
    client = Redis.from_url(redis_url)
    index = RedisKeys().user_runs("ann")
    assert await admission.admit("ann", "r_1", "q1") is None
    assert await admission.admit("ann", "r_2", None) is None
    assert await admission.admit("ann", "r_3", "q1") == "r_1"  # a replay is no new run
    assert await client.zrange(index, 0, -1) == [b"r_1", b"r_2"]
    assert 0 < await client.pttl(index) <= (RETENTION_S + 24 * 3600) * 1000
    await admission.settle("ann", "r_1", "q1")  # an ended run stays listed
    await admission.release("ann", "r_2", None)  # a refused one never ran
    assert await client.zrange(index, 0, -1) == [b"r_1"]
    assert await client.zrange(RedisKeys().user_runs("bob"), 0, -1) == []
    await client.aclose()


async def test_a_run_admitted_and_leased_on_one_instance_is_elsewhere_for_the_other(
    make_instance: MakeInstance,
) -> None:
    (a, _, _), (b, _, _) = make_instance(), make_instance()
    assert await admission_of(a).admit("ann", "r_1", None) is None
    assert await b.runs_elsewhere("ann") == []  # admitted, not started: no lease yet
    await a.publish("ann", RunEvent.stamp(AgentStarted("embedded", "hi", "q1"),
                                          run_id="r_1", thread_id="t_1", seq=1))
    assert await b.runs_elsewhere("ann") == ["r_1"]
    assert await a.runs_elsewhere("ann") == []


async def test_admission_says_unavailable_when_redis_is_down(
    make_instance: MakeInstance, redis_server: RedisServer,
) -> None:
    bus, _, _ = make_instance()
    admission = admission_of(bus)
    redis_server.stop()
    with pytest.raises(UnavailableError) as refused:
        await admission.admit("ann", "r_1", "q1")
    assert str(redis_server.port) not in str(refused.value)
    for settle in (admission.settle, admission.release):
        with pytest.raises(UnavailableError):
            await settle("ann", "r_1", "q1")
