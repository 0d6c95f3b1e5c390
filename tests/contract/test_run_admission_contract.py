"""One contract for every `RunAdmission`: memory, Redis and Redis Cluster behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from toolwire.adapters.memory import MemoryRequestLedger, MemoryRunAdmission, MemoryUserQuotas
from toolwire.adapters.redis_bus import QuotaLimits, RedisEventBus, RedisRunAdmission
from toolwire.services.errors import RateLimitedError
from toolwire.services.ports import RunAdmission

RETENTION_S = 0.3
RUNS_LIMIT = r"^at most 2 runs may go at once \(limits\.runs_per_user\); retry when one has ended$"
CHATS_LIMIT = r"^at most 3 chats a minute \(limits\.chats_per_minute\); retry in \d+ s$"


class Backend:
    """Builds admissions on one backend; `wait` lets time pass for them."""

    def __init__(self, kind: str, url: str = "") -> None:
        self.kind = kind
        self.url = url
        self.now = 1000.0  # the memory admissions' clock (Redis keeps its own)
        self.buses: list[RedisEventBus] = []

    def clock(self) -> float:
        return self.now

    def admission(self, runs_per_user: int = 2, chats_per_minute: int = 100) -> RunAdmission:
        """Return an admission with these limits and `runs.retention_s` = RETENTION_S."""
        if self.kind == "memory":
            return MemoryRunAdmission(
                ledger=MemoryRequestLedger(retention_s=RETENTION_S, clock=self.clock),
                quotas=MemoryUserQuotas(runs_per_user=runs_per_user,
                                        chats_per_minute=chats_per_minute, clock=self.clock))
        bus = RedisEventBus(url=self.url, cluster=self.kind == "redis-cluster",
                            retention_s=RETENTION_S)
        self.buses.append(bus)
        return RedisRunAdmission(
            connector=bus.connector, keys=bus.keys, retention_s=RETENTION_S,
            limits=QuotaLimits(runs_per_user, chats_per_minute, max_run_s=60))

    async def wait(self, seconds: float) -> None:
        """Let `seconds` pass."""
        if self.kind == "memory":
            self.now += seconds
        else:
            await asyncio.sleep(seconds)


@pytest.fixture(params=[
    "memory",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("redis-cluster", marks=pytest.mark.redis),
])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        built = Backend("memory")
    elif request.param == "redis":
        built = Backend("redis", request.getfixturevalue("redis_url"))
    else:
        built = Backend("redis-cluster", request.getfixturevalue("redis_cluster_url"))
    yield built
    for bus in built.buses:
        await bus.aclose()


def test_every_admission_implements_the_port(backend: Backend) -> None:
    assert isinstance(backend.admission(), RunAdmission)


async def test_a_repeated_request_id_names_the_earlier_run_and_counts_nothing(
    backend: Backend,
) -> None:
    admission = backend.admission(runs_per_user=2)
    assert await admission.admit("ann", "r_1", "q1") is None
    for n in range(5):  # a retry, however often, is no new run
        assert await admission.admit("ann", f"r_retry{n}", "q1") == "r_1"
    assert await admission.admit("ann", "r_2", None) is None  # so the second place was free
    with pytest.raises(RateLimitedError, match=RUNS_LIMIT):
        await admission.admit("ann", "r_3", None)


async def test_a_chat_refused_past_runs_per_user_claims_nothing(backend: Backend) -> None:
    admission = backend.admission(runs_per_user=2)
    await admission.admit("ann", "r_1", "q1")
    await admission.admit("ann", "r_2", None)
    with pytest.raises(RateLimitedError, match=RUNS_LIMIT):
        await admission.admit("ann", "r_3", "q3")
    await admission.settle("ann", "r_1", "q1")
    assert await admission.admit("ann", "r_4", "q3") is None  # q3 was not left to r_3


async def test_a_chat_refused_past_chats_per_minute_claims_and_counts_nothing(
    backend: Backend,
) -> None:
    admission = backend.admission(runs_per_user=100, chats_per_minute=3)
    for n in range(3):
        assert await admission.admit("ann", f"r_{n}", None) is None
    with pytest.raises(RateLimitedError, match=CHATS_LIMIT):
        await admission.admit("ann", "r_3", "q3")
    with pytest.raises(RateLimitedError, match=CHATS_LIMIT):  # still three: none was counted
        await admission.admit("ann", "r_4", "q3")  # and q3 is free again (else: "r_3")


async def test_racing_chats_with_one_request_id_start_one_run_counted_once(
    backend: Backend,
) -> None:
    admission = backend.admission(runs_per_user=2)
    outcomes = await asyncio.gather(
        *(admission.admit("ann", f"r_{n}", "q1") for n in range(10)))
    winners = [n for n, outcome in enumerate(outcomes) if outcome is None]
    assert len(winners) == 1
    assert set(outcomes) == {None, f"r_{winners[0]}"}
    assert await admission.admit("ann", "r_other", None) is None
    with pytest.raises(RateLimitedError, match=RUNS_LIMIT):
        await admission.admit("ann", "r_third", None)


async def test_settle_frees_the_place_and_keeps_the_claim_for_retention_s(
    backend: Backend,
) -> None:
    admission = backend.admission(runs_per_user=1)
    assert await admission.admit("ann", "r_1", "q1") is None
    await admission.settle("ann", "r_1", "q1")
    assert await admission.admit("ann", "r_2", "q1") == "r_1"  # replayed, not counted
    assert await admission.admit("ann", "r_3", None) is None  # r_1's place is free
    await admission.settle("ann", "r_3", None)
    await backend.wait(RETENTION_S + 0.1)
    assert await admission.admit("ann", "r_4", "q1") is None  # forgotten: a new run


async def test_only_the_claims_own_run_settles_or_releases_it(backend: Backend) -> None:
    admission = backend.admission(runs_per_user=5)
    assert await admission.admit("ann", "r_1", "q1") is None
    await admission.release("ann", "r_other", "q1")
    await admission.settle("ann", "r_other", "q1")
    await backend.wait(RETENTION_S + 0.1)
    assert await admission.admit("ann", "r_2", "q1") == "r_1"  # still r_1's, with no end


async def test_release_forgets_the_claim_and_frees_the_place(backend: Backend) -> None:
    admission = backend.admission(runs_per_user=1)
    assert await admission.admit("ann", "r_1", "q1") is None
    await admission.release("ann", "r_1", "q1")  # refused after all (its thread was busy)
    assert await admission.admit("ann", "r_2", "q1") is None  # neither claim nor place held
    await admission.release("ann", "r_2", None)
    assert await admission.admit("ann", "r_3", None) is None


async def test_two_users_share_neither_request_ids_nor_places(backend: Backend) -> None:
    admission = backend.admission(runs_per_user=1)
    assert await admission.admit("ann", "r_1", "q1") is None
    assert await admission.admit("bob", "r_2", "q1") is None  # bob's own q1
    with pytest.raises(RateLimitedError, match=r"limits\.runs_per_user"):
        await admission.admit("ann", "r_3", None)
    await admission.settle("bob", "r_1", "q1")  # names ann's run: touches nothing of hers
    await admission.release("bob", "r_1", "q1")
    with pytest.raises(RateLimitedError, match=r"limits\.runs_per_user"):
        await admission.admit("ann", "r_3", None)
    await backend.wait(RETENTION_S + 0.1)
    assert await admission.admit("ann", "r_4", "q1") == "r_1"
