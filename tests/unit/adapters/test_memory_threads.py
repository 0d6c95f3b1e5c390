"""The memory thread store's bounds: bytes per user and in total, idle time."""

from __future__ import annotations

import gc

from toolwire.adapters.memory import InMemoryThreadStore, memory_run_eraser
from toolwire.adapters.memory.threads import THREAD_OVERHEAD, turn_cost
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.services.events import AgentCompleted, AgentStarted, RunEvent
from toolwire.services.threads.models import Turn


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def turn(run_id: str, size: int = 1000) -> Turn:
    return Turn(run_id=run_id, message="m", status="ok", started_at="s", ended_at="e",
                answer="x" * size)


async def add(store: InMemoryThreadStore, user: str, thread: str, each: Turn) -> None:
    await store.claim(user, thread, each.run_id, message="m", hold_s=60)
    await store.append(user, thread, each)


def cost(turns: int, size: int = 1000) -> int:
    return THREAD_OVERHEAD + turns * turn_cost(turn("r0", size))


async def test_a_user_past_the_bound_loses_the_least_recently_active_thread() -> None:
    store = InMemoryThreadStore(max_bytes_per_user=cost(1) * 3, clock=Clock())
    for name in ("a", "b", "c"):
        await add(store, "ada", name, turn(f"r-{name}"))
    await add(store, "ada", "a", turn("r-a2"))  # "a" is active again: "b" is the oldest now
    await add(store, "bob", "z", turn("r-z"))  # another user's bytes do not count
    page = await store.list_threads("ada", limit=10)
    assert [s.thread_id for s in page.threads] == ["a", "c"]
    assert await store.get("bob", "z") is not None


async def test_past_the_total_bound_anyones_oldest_thread_goes_first() -> None:
    store = InMemoryThreadStore(max_bytes=cost(1) * 2, clock=Clock())
    await add(store, "ada", "a", turn("r1"))
    await add(store, "bob", "b", turn("r2"))
    await add(store, "cy", "c", turn("r3"))
    assert await store.get("ada", "a") is None
    assert await store.get("bob", "b") is not None
    assert store.stats() == (2, cost(1) * 2)


async def test_a_thread_alone_past_the_bound_drops_its_oldest_turns() -> None:
    store = InMemoryThreadStore(max_bytes_per_user=cost(2), clock=Clock())
    for n in range(4):
        await add(store, "ada", "t", turn(f"r{n}"))
    detail = await store.get("ada", "t")
    assert detail is not None
    assert [t.run_id for t in detail.turns] == ["r2", "r3"]


async def test_idle_threads_are_dropped_after_the_retention() -> None:
    clock = Clock()
    store = InMemoryThreadStore(retention_s=100, clock=clock)
    await add(store, "ada", "old", turn("r1"))
    clock.now += 60
    await add(store, "ada", "new", turn("r2"))
    clock.now += 50
    assert await store.get("ada", "old") is None
    assert await store.get("ada", "new") is not None
    assert store.stats()[0] == 1


async def test_deleting_a_thread_erases_its_runs_from_the_memory_bus() -> None:
    bus = InMemoryEventBus()
    store = InMemoryThreadStore(erase_runs=memory_run_eraser(bus))
    for run_id, user in (("r1", "ada"), ("r2", "ada"), ("r3", "bob")):
        await bus.publish(user, RunEvent.stamp(AgentStarted("a", "m", "q"), run_id=run_id,
                                               thread_id="t", seq=1))
        await bus.publish(user, RunEvent.stamp(AgentCompleted("ok", 1.0, answer="x"),
                                               run_id=run_id, thread_id="t", seq=2))
    await add(store, "ada", "t", turn("r1"))
    await add(store, "ada", "t", turn("r3"))  # a run id of bob's is never erased for ada
    await store.delete("ada", "t")
    assert await bus.replay("r1") == []
    assert await bus.replay("r2") != []
    assert await bus.replay("r3") != []


async def test_kept_turns_leave_nothing_for_the_garbage_collector_to_walk() -> None:
    store = InMemoryThreadStore(clock=Clock())
    await add(store, "ada", "a", turn("r-first", 10))  # the thread itself is two objects
    gc.collect()
    tracked = len(gc.get_objects())
    for n in range(500):
        await add(store, "ada", "a", turn(f"r-{n}", 10))
    gc.collect()
    assert len(gc.get_objects()) - tracked < 50  # not one object per turn
    detail = await store.get("ada", "a")
    assert detail is not None and detail.turns[-1].run_id == "r-499"
