"""`EventLog` and `RecordingBus`: what was published, and who it reached."""

from __future__ import annotations

import asyncio

import pytest

from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.container import ApplicationContainer
from toolwire.services.context import UserExecutionContext
from toolwire.services.events import AgentCompleted, AgentStarted, RunEvent
from toolwire.testing import EventLog, RecordingBus
from toolwire.testing.lifecycle import ContainerFactory


def stamped(run_id: str, seq: int, kind: str = "agent_started") -> RunEvent:
    """Return a minimal event of `run_id`."""
    payload = (AgentStarted("a", "m", "q") if kind == "agent_started"
               else AgentCompleted("ok", 1.0, answer="x"))
    return RunEvent.stamp(payload, run_id=run_id, thread_id="t", seq=seq,
                          ts="2026-01-01T00:00:00.000000Z")


async def test_recording_bus_records_publishes_and_deliveries_per_subscriber() -> None:
    log = EventLog()
    bus = RecordingBus(InMemoryEventBus(), log)
    got: list[RunEvent] = []
    await bus.subscribe("alice", got.append)
    await bus.publish("alice", stamped("r_a", 1))
    await bus.publish("bob", stamped("r_b", 1))
    assert [e.run_id for e in got] == ["r_a"]
    assert log.runs() == ["r_a", "r_b"]
    assert log.user_of("r_b") == "bob"
    assert [(user, via) for user, via, _ in log.deliveries] == [("alice", "a bus subscriber")]
    assert await bus.replay("r_a") == got
    assert await bus.run_owner("r_b") == "bob"
    assert bus.subscriber_count("alice") == 1  # extras of the real bus pass through
    await bus.aclose()
    assert not await bus.ping()


def test_assert_isolated_names_an_event_that_reached_another_user() -> None:
    log = EventLog()
    log.record_published("alice", stamped("r_a", 1))
    log.record_delivery("alice", "a socket", stamped("r_a", 1).to_wire())
    log.assert_isolated()
    log.record_delivery("bob", "a socket", stamped("r_a", 1).to_wire())
    with pytest.raises(AssertionError, match=r"agent_started seq 1 of run r_a \(user 'alice'\) "
                                             r"reached a socket of 'bob'"):
        log.assert_isolated()


def test_events_without_a_run_id_need_exactly_one_run() -> None:
    log = EventLog()
    with pytest.raises(LookupError, match="0 runs"):
        log.events()
    log.record_published("alice", stamped("r_a", 1))
    assert log.types() == ["agent_started"]
    log.record_published("alice", stamped("r_b", 1))
    with pytest.raises(LookupError, match="pass a run_id: 2 runs"):
        log.types()


async def test_wait_completed_polls_until_the_run_ends_or_fails_with_the_table() -> None:
    log = EventLog()
    log.record_published("alice", stamped("r_a", 1))

    async def finish() -> None:
        await asyncio.sleep(0.01)
        log.record_published("alice", stamped("r_a", 2, "agent_completed"))

    task = asyncio.create_task(finish())
    await log.wait_completed("r_a", within_s=5)
    await task
    with pytest.raises(AssertionError, match=r"(?s)did not complete.*1    agent_started"):
        await log.wait_completed("r_x", within_s=0.01)


async def test_toolwire_events_sees_every_published_event_of_every_user(
    toolwire_container: ApplicationContainer, toolwire_events: EventLog
) -> None:
    runs = []
    for user in ("alice", "bob"):
        ctx = UserExecutionContext.for_user(user)
        async with toolwire_container.request_scope(ctx) as scope:
            await scope.run("hello")
        runs.append(ctx.run_id)
    assert toolwire_events.runs() == runs
    assert [toolwire_events.user_of(r) for r in runs] == ["alice", "bob"]
    toolwire_events.assert_well_formed()


async def test_container_factory_closes_the_bus_of_each_container() -> None:
    factory = ContainerFactory()
    container = factory(runs={"max_tool_calls": 1})
    bus = container.event_bus()
    assert container.settings().runs.max_tool_calls == 1
    await factory.aclose()
    assert not await bus.ping()
