"""One contract for every `ThreadStore`: memory, Redis and Redis Cluster behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis, RedisCluster

from toolwire.adapters.memory import InMemoryThreadStore
from toolwire.adapters.redis_bus import RedisThreadStore
from toolwire.services.events import ErrorInfo
from toolwire.services.ports import ThreadStore
from toolwire.services.threads.models import ToolCallRecord, Turn

HOLD_S = 60.0
Store = InMemoryThreadStore | RedisThreadStore


class FakeClock:
    """Wall time the stores read for activity and claims (Redis keeps its own for expiry)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 0.001  # every reading is later than the one before
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=[
    "memory",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("redis-cluster", marks=pytest.mark.redis),
])
async def store(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[Store]:
    built: Store
    if request.param == "memory":
        built = InMemoryThreadStore(max_stored_turns=5, clock=clock)
    elif request.param == "redis":
        built = RedisThreadStore(url=request.getfixturevalue("redis_url"), max_stored_turns=5,
                                 clock=clock)
    else:
        built = RedisThreadStore(url=request.getfixturevalue("redis_cluster_url"),
                                 cluster=True, max_stored_turns=5, clock=clock)
    yield built
    await built.aclose()


def turn(run_id: str, message: str = "hello", answer: str = "hi", **fields: object) -> Turn:
    return Turn(run_id=run_id, message=message, status="ok", started_at="s", ended_at="e",
                answer=answer, **fields)  # type: ignore[arg-type]


async def add(store: Store, user: str, thread: str, *turns: Turn) -> None:
    for each in turns:
        assert await store.claim(user, thread, each.run_id, message=each.message,
                                 hold_s=HOLD_S) is None
        await store.append(user, thread, each)


def test_every_store_implements_the_port(store: Store) -> None:
    assert isinstance(store, ThreadStore)


async def test_a_claim_creates_the_thread_and_the_turn_ends_the_claim(store: Store) -> None:
    assert await store.get("ada", "t") is None
    assert await store.claim("ada", "t", "r1", message="  what   is 6*7?", hold_s=HOLD_S) is None
    detail = await store.get("ada", "t")
    assert detail is not None
    assert detail.active_run_id == "r1"
    assert detail.summary.title == "what is 6*7?"
    assert (detail.summary.turns, detail.turns) == (0, ())
    call = ToolCallRecord(call_id="c1", tool="calculator", args={"expression": "6*7"},
                          status="ok", result=42)
    await store.append("ada", "t", turn("r1", "what is 6*7?", "42", tool_calls=(call,)))
    detail = await store.get("ada", "t")
    assert detail is not None
    assert detail.active_run_id is None
    assert detail.turns == (turn("r1", "what is 6*7?", "42", tool_calls=(call,)),)
    assert detail.summary.turns == 1


async def test_a_second_run_finds_the_thread_held(store: Store, clock: FakeClock) -> None:
    assert await store.claim("ada", "t", "r1", message="m", hold_s=HOLD_S) is None
    assert await store.claim("ada", "t", "r2", message="m", hold_s=HOLD_S) == "r1"
    assert await store.claim("ada", "t", "r1", message="m", hold_s=HOLD_S) is None
    assert await store.claim("bob", "t", "r3", message="m", hold_s=HOLD_S) is None
    await store.release("ada", "t", "r2")  # not the holder: nothing changes
    assert await store.claim("ada", "t", "r2", message="m", hold_s=HOLD_S) == "r1"
    await store.release("ada", "t", "r1")
    assert await store.claim("ada", "t", "r2", message="m", hold_s=HOLD_S) is None
    clock.now += HOLD_S + 1  # a claim nobody ended lapses
    assert await store.claim("ada", "t", "r4", message="m", hold_s=HOLD_S) is None


async def test_a_turn_of_a_deleted_thread_is_not_written_back(store: Store) -> None:
    assert await store.claim("ada", "t", "r1", message="m", hold_s=HOLD_S) is None
    assert await store.delete("ada", "t") == ["r1"]
    await store.append("ada", "t", turn("r1"))
    assert await store.get("ada", "t") is None
    assert (await store.list_threads("ada", limit=10)).threads == ()


async def test_history_is_the_latest_whole_turns_oldest_first(store: Store) -> None:
    turns = [turn(f"r{n}", f"message {n}", "x" * 100) for n in range(4)]
    await add(store, "ada", "t", *turns)
    every = await store.history("ada", "t", max_turns=50, max_bytes=1 << 20)
    assert list(every) == turns
    assert list(await store.history("ada", "t", max_turns=2, max_bytes=1 << 20)) == turns[2:]
    two = turns[2].size + turns[3].size
    assert list(await store.history("ada", "t", max_turns=50, max_bytes=two)) == turns[2:]
    assert list(await store.history("ada", "t", max_turns=50, max_bytes=two - 1)) == turns[3:]
    assert list(await store.history("ada", "t", max_turns=0, max_bytes=1 << 20)) == []
    assert list(await store.history("ada", "new", max_turns=50, max_bytes=1 << 20)) == []


async def test_a_thread_keeps_its_latest_turns(store: Store) -> None:
    turns = [turn(f"r{n}") for n in range(7)]
    await add(store, "ada", "t", *turns)
    detail = await store.get("ada", "t")
    assert detail is not None
    assert [t.run_id for t in detail.turns] == ["r2", "r3", "r4", "r5", "r6"]
    assert detail.summary.turns == 7


async def test_the_list_is_most_recently_active_first_in_pages(store: Store) -> None:
    for name in ("a", "b", "c", "d", "e"):
        await add(store, "ada", name, turn(f"r-{name}", f"first of {name}"))
    await add(store, "ada", "b", turn("r-b2"))  # b is now the most recently active
    await add(store, "bob", "z", turn("r-z"))
    first = await store.list_threads("ada", limit=2)
    assert [s.thread_id for s in first.threads] == ["b", "e"]
    assert first.threads[0].title == "first of b"
    assert first.threads[0].turns == 2
    assert first.next is not None
    second = await store.list_threads("ada", limit=2, before=first.next)
    assert [s.thread_id for s in second.threads] == ["d", "c"]
    assert second.next is not None
    third = await store.list_threads("ada", limit=2, before=second.next)
    assert [s.thread_id for s in third.threads] == ["a"]
    assert third.next is None
    with pytest.raises(ValueError, match="cursor"):
        await store.list_threads("ada", limit=2, before="not-a-cursor!")


async def test_no_choice_of_ids_reaches_another_users_thread(store: Store) -> None:
    pairs = [("a}:b", "c"), ("a", "b}:c"), ("a:b", "c"), ("a:", "b:c"), ("{a}", "x"),
             ("a%3Ab", "c")]
    for n, (user, thread) in enumerate(pairs):
        await add(store, user, thread, turn(f"r{n}", f"secret {n}"))
    for n, (user, thread) in enumerate(pairs):
        detail = await store.get(user, thread)
        assert detail is not None
        assert [t.message for t in detail.turns] == [f"secret {n}"]
        page = await store.list_threads(user, limit=10)
        assert [s.thread_id for s in page.threads] == [thread]
    assert await store.get("a", "c") is None
    assert await store.delete("mallory", "c") is None
    assert await store.claim("mallory", "b}:c", "rm", message="m", hold_s=HOLD_S) is None
    detail = await store.get("a", "b}:c")
    assert detail is not None and detail.active_run_id is None


async def test_delete_erases_the_thread_and_names_its_runs(store: Store) -> None:
    await add(store, "ada", "t", turn("r1", "the secret text"), turn("r2"))
    await add(store, "ada", "other", turn("r3"))
    assert await store.claim("ada", "t", "r4", message="m", hold_s=HOLD_S) is None
    assert sorted(await store.delete("ada", "t") or []) == ["r1", "r2", "r4"]
    assert await store.get("ada", "t") is None
    assert list(await store.history("ada", "t", max_turns=50, max_bytes=1 << 20)) == []
    assert [s.thread_id for s in (await store.list_threads("ada", limit=10)).threads] == [
        "other"]
    assert await store.delete("ada", "t") is None


async def test_failed_and_cancelled_turns_are_kept_as_such(store: Store) -> None:
    failed = Turn(run_id="r1", message="m", status="error", started_at="s", ended_at="e",
                  error=ErrorInfo("agent_error", "boom"))
    cancelled = Turn(run_id="r2", message="m", status="cancelled", started_at="s",
                     ended_at="e", error=ErrorInfo("cancelled", "the run was cancelled"))
    await add(store, "ada", "t", failed, cancelled)
    detail = await store.get("ada", "t")
    assert detail is not None
    assert detail.turns == (failed, cancelled)


@pytest.mark.redis
async def test_redis_deletes_every_key_holding_the_threads_text(redis_url: str) -> None:
    from toolwire.adapters.redis_bus import RedisEventBus
    from toolwire.services.events import AgentStarted, RunEvent

    bus = RedisEventBus(url=redis_url)
    store = RedisThreadStore(url=redis_url)
    try:
        await bus.publish("ada", RunEvent.stamp(AgentStarted("embedded", "the secret text", "q"),
                                                run_id="r1", thread_id="t", seq=1))
        await add(store, "ada", "t", turn("r1", "the secret text"))
        await add(store, "ada", "kept", turn("r2", "other words"))
        client = Redis.from_url(redis_url)
        assert await _keys_holding(client, b"the secret text")
        await store.delete("ada", "t")
        assert await _keys_holding(client, b"the secret text") == []
        assert await _keys_holding(client, b"other words")
        await client.aclose()
    finally:
        await store.aclose()
        await bus.aclose()


@pytest.mark.redis
async def test_redis_expires_idle_threads(redis_url: str) -> None:
    store = RedisThreadStore(url=redis_url, retention_s=0.3)
    try:
        await add(store, "ada", "t", turn("r1"))
        assert await store.get("ada", "t") is not None
        await asyncio.sleep(0.5)
        assert await store.get("ada", "t") is None
        assert (await store.list_threads("ada", limit=10)).threads == ()
        client = Redis.from_url(redis_url)
        assert await client.keys("*thread*") == []
        await client.aclose()
    finally:
        await store.aclose()


@pytest.mark.redis
async def test_redis_cluster_keeps_a_users_keys_in_one_slot(redis_cluster_url: str) -> None:
    store = RedisThreadStore(url=redis_cluster_url, cluster=True)
    try:
        slots = {RedisCluster.keyslot(RedisCluster.from_url(redis_cluster_url), key)
                 for key in store.keys("ada}{x", "some:thread")}
        assert len(slots) == 1
    finally:
        await store.aclose()


async def _keys_holding(client: Redis, text: bytes) -> list[Any]:
    found = []
    values: list[Any]
    for key in await client.keys("*"):
        kind: Any = await client.type(key)
        kind = kind.decode()
        if kind == "string":
            values = [await client.get(key)]
        elif kind == "list":
            values = await client.lrange(key, 0, -1)
        elif kind == "hash":
            values = list((await client.hgetall(key)).values())
        elif kind == "stream":
            entries: list[Any] = await client.xrange(key) or []
            values = [v for _, fields in entries for v in fields.values()]
        else:
            values = list(await client.zrange(key, 0, -1))
        if any(text in (v or b"") for v in values):
            found.append(key)
    return found


async def test_a_claim_that_reads_gets_the_history_only_when_it_holds(store: Store) -> None:
    bounds = {"max_turns": 2, "max_bytes": 10_000}
    assert await store.claim_reading("ada", "t", "r1", message="m", hold_s=HOLD_S,
                                     **bounds) == (None, ())  # a new thread: no turns
    assert await store.claim_reading("ada", "t", "r2", message="m", hold_s=HOLD_S,
                                     **bounds) == ("r1", ())  # held: nothing read
    await store.append("ada", "t", turn("r1", answer="one"))
    await add(store, "ada", "t", turn("r2", answer="two"), turn("r3", answer="three"))
    holder, history = await store.claim_reading("ada", "t", "r4", message="m", hold_s=HOLD_S,
                                                **bounds)
    assert holder is None
    assert [t.answer for t in history] == ["two", "three"]  # the newest, within max_turns
    assert await store.claim("ada", "t", "r5", message="m", hold_s=HOLD_S) == "r4"
    _, small = await store.claim_reading("ada", "t", "r4", message="m", hold_s=HOLD_S,
                                         max_turns=5, max_bytes=turn("r3").size + 20)
    assert [t.answer for t in small] == ["three"]  # whole turns within max_bytes
    _, none = await store.claim_reading("ada", "t", "r4", message="m", hold_s=HOLD_S,
                                        max_turns=0, max_bytes=10_000)
    assert list(none) == []
