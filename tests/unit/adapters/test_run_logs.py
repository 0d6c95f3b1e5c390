"""`RunLogs`: the memory bus's replay logs stay within their event, time and byte bounds."""

from __future__ import annotations

import gc

from tests.support import event
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.adapters.run_logs import ENTRY_OVERHEAD, RunLogs
from toolwire.services.events import RunEvent

SIZE = len(event("r_000", 1).encoded()) + ENTRY_OVERHEAD  # about every event below


def size(events: list[RunEvent]) -> int:
    """Return the bytes `events` count for: their UTF-8 JSON and what keeping each costs."""
    return sum(len(each.encoded()) + ENTRY_OVERHEAD for each in events)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ended_run(run_id: str, events: int) -> list[RunEvent]:
    """Events of a run that ends with its last one."""
    return [event(run_id, seq, "agent_completed" if seq == events else "agent_thinking")
            for seq in range(1, events + 1)]


def logs(per_user: int = 10**9, total: int = 10**9, clock: Clock | None = None) -> RunLogs:
    return RunLogs(retention_s=60, max_events=100, max_bytes_per_user=per_user,
                   max_bytes=total, clock=clock or Clock())


def test_a_users_ended_runs_stay_under_the_per_user_bound_oldest_dropped_first() -> None:
    kept = logs(per_user=10 * SIZE)
    for n in range(5):
        for each in ended_run(f"r_{n:03d}", 4):
            kept.append("ada", each)
    kept.append("bob", event("r_bob", 1, "agent_completed"))
    assert kept.user_bytes("ada") <= 10 * SIZE
    assert [kept.get(f"r_{n:03d}") is not None for n in range(5)] == [
        False, False, False, True, True]
    assert kept.get("r_bob") is not None  # another user's log is not touched


def test_all_ended_runs_stay_under_the_total_bound_oldest_dropped_first() -> None:
    run_size = size(ended_run("r_000", 2))
    kept = logs(total=3 * run_size)
    for n, user in enumerate(["ada", "bob", "cy", "dee"]):
        for each in ended_run(f"r_{n:03d}", 2):
            kept.append(user, each)
    assert kept.ended_bytes == 3 * run_size
    assert [kept.get(f"r_{n:03d}") is not None for n in range(4)] == [False, True, True, True]


def test_a_live_run_is_never_dropped_for_bytes() -> None:
    kept = logs(per_user=SIZE, total=SIZE)
    for seq in range(1, 20):
        kept.append("ada", event("r_live", seq))
    for each in ended_run("r_done", 3):
        kept.append("ada", each)
    live = kept.get("r_live")
    assert live is not None and len(live.after(0)) == 19
    assert kept.get("r_done") is None
    assert kept.ended_bytes == 0


def test_expired_runs_are_dropped_and_their_bytes_released() -> None:
    clock = Clock()
    kept = logs(clock=clock)
    for each in ended_run("r_old", 3):
        kept.append("ada", each)
    assert kept.ended_bytes == size(ended_run("r_old", 3))
    clock.now += 61
    assert kept.get("r_old") is None
    assert (kept.ended_bytes, kept.user_bytes("ada"), len(kept)) == (0, 0, 0)


def test_max_events_trims_a_log_and_its_size() -> None:
    kept = RunLogs(retention_s=60, max_events=3, max_bytes_per_user=10**9, max_bytes=10**9)
    for each in ended_run("r_1", 10):
        kept.append("ada", each)
    run = kept.get("r_1")
    assert run is not None and [e.seq for e in run.after(0)] == [8, 9, 10]
    assert [e.seq for e in run.after(8)] == [9, 10]
    assert run.after(5) == ended_run("r_1", 10)[-3:]  # rebuilt from the kept JSON, equal
    assert run.size == kept.ended_bytes == size(ended_run("r_1", 10)[-3:])


async def test_after_20k_runs_the_memory_bus_holds_only_its_byte_bound() -> None:
    bus = InMemoryEventBus(retained_bytes_per_user=50 * SIZE, retained_bytes=400 * SIZE)
    for n in range(20_000):
        user = f"u{n % 50}"
        for each in ended_run(f"r_{n}", 3):
            await bus.publish(user, each)
    assert bus.logs.ended_bytes <= 400 * SIZE
    assert len(bus.logs) <= 400 // 3 + 1
    assert await bus.run_owner("r_0") is None  # resume of a dropped run: not_found
    assert await bus.replay("r_0") == []
    assert await bus.run_owner("r_19999") == "u49"


def test_ended_runs_leave_nothing_for_the_garbage_collector_to_walk() -> None:
    kept = logs()
    gc.collect()
    tracked = len(gc.get_objects())
    for n in range(1000):
        for each in ended_run(f"r_{n:04d}", 3):
            kept.append("ada", each)
    gc.collect()
    gc.collect()  # a tuple is let go once what it holds was (the run's JSON, one pass before)
    assert len(gc.get_objects()) - tracked < 50  # not one object per run (or per event)
    assert [e.seq for e in kept.get("r_0999").after(0)] == [1, 2, 3]  # type: ignore[union-attr]
