"""The bridge numbers a run's events 1..n and publishes them for the run's user."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from toolwire.adapters.bridge import WebSocketBridge
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import PublishFailedError, RunTakenOverError, ScopeClosedError
from toolwire.services.events import (
    AgentCompleted,
    AgentStarted,
    AgentThinking,
    RunEvent,
    ToolExecuting,
)


class FlakyBus(InMemoryEventBus):
    """Fails the publish calls listed in `fail_on` (1-based)."""

    def __init__(self, fail_on: set[int]) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.calls = 0

    async def publish(self, user_id: str, event: RunEvent) -> None:
        self.calls += 1
        await asyncio.sleep(0)
        if self.calls in self.fail_on:
            raise ConnectionError("bus down")
        await super().publish(user_id, event)


async def test_concurrent_emits_get_consecutive_seq_and_envelope_fields() -> None:
    bus = InMemoryEventBus()
    ctx = UserExecutionContext.for_user("ann")
    got: list[RunEvent] = []
    await bus.subscribe("ann", got.append)
    fixed = datetime(2026, 11, 24, 21, 50, 0, 123456, tzinfo=UTC)
    bridge = WebSocketBridge(user_context=ctx, bus=bus, clock=fixed.timestamp)
    await asyncio.gather(*(bridge.emit(AgentThinking(f"t{i}", i)) for i in range(50)))
    assert [e.seq for e in got] == list(range(1, 51))
    assert {(e.run_id, e.thread_id) for e in got} == {(ctx.run_id, ctx.thread_id)}
    assert got[0].ts == "2026-11-24T21:50:00.123456Z"
    assert bridge.last_seq == 50


async def test_a_failed_publish_keeps_its_number_and_goes_out_before_the_next() -> None:
    bus = FlakyBus(fail_on={2})
    ctx = UserExecutionContext.for_user("ann")
    bridge = WebSocketBridge(user_context=ctx, bus=bus, retry_for_s=0)
    await bridge.emit(AgentThinking("a", 1))
    with pytest.raises(PublishFailedError) as failed:
        await bridge.emit(AgentThinking("b", 2))
    assert isinstance(failed.value.__cause__, ConnectionError)
    assert "bus down" not in str(failed.value)  # driver text stays server-side
    assert bridge.last_seq == 1
    third = await bridge.emit(AgentThinking("c", 3))
    kept = await bus.replay(ctx.run_id)
    assert [(e.seq, e.data["text"]) for e in kept] == [(1, "a"), (2, "b"), (3, "c")]
    assert third.seq == 3 and bridge.last_seq == 3


async def test_a_closed_bridge_logs_the_events_it_could_not_publish(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = FlakyBus(fail_on={1})
    bridge = WebSocketBridge(user_context=UserExecutionContext.for_user("a"), bus=bus)
    with pytest.raises(PublishFailedError):
        await bridge.emit(AgentThinking("lost", 1))
    await bridge.aclose()
    assert "never published: seq 1 (agent_thinking)" in caplog.text


async def test_a_short_outage_is_retried_with_the_same_seq_and_nothing_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = FlakyBus(fail_on={2, 3, 4})
    ctx = UserExecutionContext.for_user("ann")
    bridge = WebSocketBridge(user_context=ctx, bus=bus, retry_for_s=10)
    for step in range(1, 4):
        await bridge.emit(AgentThinking(f"t{step}", step))
    kept = await bus.replay(ctx.run_id)
    assert [e.seq for e in kept] == [1, 2, 3]
    assert [e.data["text"] for e in kept] == ["t1", "t2", "t3"]
    assert bus.calls == 6
    assert "retrying" in caplog.text


async def test_retrying_gives_up_after_its_window() -> None:
    bus = FlakyBus(fail_on=set(range(1, 1000)))
    bridge = WebSocketBridge(user_context=UserExecutionContext.for_user("a"), bus=bus,
                             retry_for_s=0.2)
    with pytest.raises(PublishFailedError):
        await bridge.emit(AgentThinking("never", 1))
    assert 2 <= bus.calls < 10
    assert bridge.last_seq == 0


async def test_closed_bridge_refuses_events() -> None:
    bridge = WebSocketBridge(user_context=UserExecutionContext.for_user("a"),
                             bus=InMemoryEventBus())
    await bridge.aclose()
    with pytest.raises(ScopeClosedError):
        await bridge.emit(AgentThinking("late", 1))


class CancelledAfterWrite(InMemoryEventBus):
    """Keeps the first event, then is cancelled before it can say so (a lost reply)."""

    def __init__(self) -> None:
        super().__init__()
        self.interrupted = False

    async def publish(self, user_id: str, event: RunEvent) -> None:
        await super().publish(user_id, event)
        if not self.interrupted:
            self.interrupted = True
            raise asyncio.CancelledError


async def test_a_publish_interrupted_by_cancellation_is_finished_once() -> None:
    bus = CancelledAfterWrite()
    ctx = UserExecutionContext.for_user("ann")
    got: list[RunEvent] = []
    await bus.subscribe("ann", got.append)
    bridge = WebSocketBridge(user_context=ctx, bus=bus)
    with pytest.raises(asyncio.CancelledError):
        await bridge.emit(AgentThinking("first", 1))
    await bridge.emit(AgentThinking("second", 2))
    assert [(e.seq, e.data["text"]) for e in got] == [(1, "first"), (2, "second")]
    assert [e.seq for e in await bus.replay(ctx.run_id)] == [1, 2]


class FrozenBus(InMemoryEventBus):
    """Never answers a publish (a Redis stopped with SIGSTOP)."""

    async def publish(self, user_id: str, event: RunEvent) -> None:
        await asyncio.Event().wait()


async def test_a_cancelled_run_gives_up_its_remaining_events_within_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("toolwire.adapters.bridge.CANCELLED_RETRY_S", 0.3)
    bridge = WebSocketBridge(user_context=UserExecutionContext.for_user("a"), bus=FrozenBus(),
                             retry_for_s=300)
    gave_up: list[str] = []

    async def run() -> None:
        try:
            await asyncio.sleep(10)  # cancelled while a tool runs, not while it emits
        except asyncio.CancelledError:
            for text in ("tool cancelled", "run cancelled"):  # as the executor, then the run
                try:
                    await bridge.emit(AgentThinking(text, 1))
                except PublishFailedError:
                    gave_up.append(text)
            raise

    task = asyncio.get_running_loop().create_task(run())
    await asyncio.sleep(0.01)
    task.cancel()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert loop.time() - started < 1.5  # not 2 x retry_for_s
    assert gave_up == ["tool cancelled", "run cancelled"]


class PipelinedMemoryBus(InMemoryEventBus):
    """A bus that takes events ahead, as the Redis bus does: each is stored and delivered
    when the test flushes it; `fail_next` makes the next flushed event fail."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list[tuple[str, RunEvent, asyncio.Future[None]]] = []
        self.batches: list[list[int]] = []
        self.fail_next: Exception | None = None
        self.unsure: set[str] = set()

    def publish_soon(self, user_id: str, event: RunEvent) -> asyncio.Future[None]:
        stored = asyncio.get_running_loop().create_future()
        self.waiting.append((user_id, event, stored))
        if len(self.waiting) == 1:
            asyncio.get_running_loop().call_soon(self.flush)  # one batch per loop turn
        return stored

    def flush(self) -> None:
        batch, self.waiting = self.waiting, []
        self.batches.append([event.seq for _, event, _ in batch])
        for user_id, event, stored in batch:
            if self.fail_next is not None:
                stored.set_exception(self.fail_next)
                self.fail_next = None
                self.unsure.add(event.run_id)
            elif event.run_id in self.unsure:  # no later event is stored before an earlier
                stored.set_exception(ConnectionError("an earlier event was not stored"))
            else:
                stored.set_result(None)
                if self.logs.append(user_id, event):
                    self._deliver(user_id, event)

    async def publish(self, user_id: str, event: RunEvent) -> None:
        self.unsure.discard(event.run_id)
        await super().publish(user_id, event)


def run_emitter(bus: PipelinedMemoryBus) -> tuple[WebSocketBridge, UserExecutionContext]:
    ctx = UserExecutionContext.for_user("ann")
    return WebSocketBridge(user_context=ctx, bus=bus, retry_for_s=1), ctx


async def test_events_a_run_need_not_wait_for_share_a_round_trip_with_the_next() -> None:
    bus = PipelinedMemoryBus()
    bridge, _ = run_emitter(bus)
    got: list[RunEvent] = []
    await bus.subscribe("ann", got.append)
    await bridge.emit(AgentStarted("embedded", "hi", "q_1"))  # the first: waited for
    await bridge.emit(AgentThinking("a", 1))  # returns before Redis has it
    await bridge.emit(AgentThinking("b", 2))
    assert got[-1].seq == 1 and bridge.last_seq == 1
    await bridge.emit(ToolExecuting("calculator", "c_1", {}))  # waits for all before it
    assert [e.seq for e in got] == [1, 2, 3, 4]
    assert bus.batches == [[1], [2, 3, 4]]  # one round trip for the three
    assert bridge.last_seq == 4


async def test_an_event_taken_ahead_that_failed_is_published_again_in_order() -> None:
    bus = PipelinedMemoryBus()
    bridge, ctx = run_emitter(bus)
    got: list[RunEvent] = []
    await bus.subscribe("ann", got.append)
    await bridge.emit(AgentStarted("embedded", "hi", "q_1"))
    bus.fail_next = ConnectionError("redis restarted")
    await bridge.emit(AgentThinking("a", 1))  # fails in the batch
    await bridge.emit(AgentThinking("b", 2))  # refused: it would overtake the failed one
    await bridge.emit(AgentCompleted("ok", 1.0, answer="x"))
    assert [e.seq for e in got] == [1, 2, 3, 4]
    assert [e.seq for e in await bus.replay(ctx.run_id)] == [1, 2, 3, 4]


async def test_a_run_taken_over_while_events_were_ahead_stops_at_its_next_wait() -> None:
    bus = PipelinedMemoryBus()
    bridge, _ = run_emitter(bus)
    await bridge.emit(AgentStarted("embedded", "hi", "q_1"))
    bus.fail_next = RunTakenOverError("ended by another instance")
    await bridge.emit(AgentThinking("a", 1))
    with pytest.raises(RunTakenOverError):
        await bridge.emit(ToolExecuting("calculator", "c_1", {}))
    assert bridge.last_seq == 1


async def test_closing_waits_for_events_taken_ahead() -> None:
    bus = PipelinedMemoryBus()
    bridge, ctx = run_emitter(bus)
    await bridge.emit(AgentStarted("embedded", "hi", "q_1"))
    await bridge.emit(AgentThinking("a", 1))
    await bridge.aclose()
    assert [e.seq for e in await bus.replay(ctx.run_id)] == [1, 2]


async def test_a_bus_without_publish_soon_is_waited_for_every_event() -> None:
    bus = FlakyBus(fail_on=set())
    bridge = WebSocketBridge(user_context=UserExecutionContext.for_user("ann"), bus=bus)
    await bridge.emit(AgentThinking("a", 1))
    assert bus.calls == 1 and bridge.last_seq == 1


async def test_a_long_stream_keeps_only_the_events_not_yet_stored() -> None:
    bus = PipelinedMemoryBus()
    bridge, _ = run_emitter(bus)
    await bridge.emit(AgentStarted("embedded", "hi", "q_1"))
    for step in range(1, 1001):
        await bridge.emit(AgentThinking("t", step))
        await asyncio.sleep(0)  # the bus stores it meanwhile
    assert bridge.last_seq >= 1000  # what landed no longer counts as open
    await bridge.emit(AgentCompleted("ok", 1.0, answer="x"))
    assert bridge.last_seq == 1002
