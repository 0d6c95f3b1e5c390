"""`RunSupervisor`: each run a server task in its own scope, with per-user limits and ownership.

The ledger, quotas and run admission are the in-process ones; their own rules are tested
beside them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

import pytest

from tests.support import event, eventually
from toolwire.adapters.memory import (
    InMemoryThreadStore,
    MemoryRequestLedger,
    MemoryRunAdmission,
    MemoryUserQuotas,
)
from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import (
    RateLimitedError,
    RunNotFoundError,
    ThreadBusyError,
    ToolwireError,
    UnavailableError,
)
from toolwire.services.supervisor import OnBusy, RunSupervisor, Started
from toolwire.services.threads.models import Turn

T = TypeVar("T")
HANG_GUARD_S = 5.0


async def guarded(awaitable: Awaitable[T]) -> T:
    """Await `awaitable`, failing after a few seconds: a hang guard, not a timing assertion.

    Unlike `asyncio.wait_for`, it does not cancel what it waits for before failing, so a
    shutdown that never cancels its runs cannot pass thanks to the guard's own cancel.
    """
    future = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({future}, timeout=HANG_GUARD_S)
    if not done:
        future.cancel()
        raise AssertionError(f"not done within {HANG_GUARD_S:g} s")
    return future.result()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeScope:
    """One run's scope: `run` waits for `release`, then fails with `error` or answers.

    `outcome` says how the run ended (`ok`, `failed`, `cancelled`); closing waits for
    `close_gate`.
    """

    def __init__(self) -> None:
        self.ctx: UserExecutionContext | None = None
        self.messages: list[str] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.close_gate = asyncio.Event()
        self.close_gate.set()
        self.error: Exception | None = None
        self.outcome: str | None = None
        self.closed = False

    async def run(self, message: str, history: Sequence[Turn] | None = None, *,
                  thread_held: bool = False) -> str:
        assert thread_held, "the supervisor claimed the thread before the scope ran"
        self.messages.append(message)
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.outcome = "cancelled"
            raise
        if self.error is not None:
            self.outcome = "failed"
            raise self.error
        self.outcome = "ok"
        return "answer"


class Scopes:
    """The scope factory: one `FakeScope` per run, publishing its first and last event and,
    like a real scope, storing the run's turn before the last (which frees its thread)."""

    def __init__(self, bus: InMemoryEventBus, threads: InMemoryThreadStore) -> None:
        self.bus = bus
        self.threads = threads
        self.opened: list[str] = []
        self.refuse: Exception | None = None
        self._scopes: dict[str, FakeScope] = {}

    def of(self, run_id: str) -> FakeScope:
        """Return the scope of `run_id` (made now if its run has not opened it yet)."""
        return self._scopes.setdefault(run_id, FakeScope())

    def __call__(self, ctx: UserExecutionContext) -> AbstractAsyncContextManager[FakeScope]:
        return self._open(ctx)

    @contextlib.asynccontextmanager
    async def _open(self, ctx: UserExecutionContext) -> AsyncIterator[FakeScope]:
        if self.refuse is not None:
            raise self.refuse
        scope = self.of(ctx.run_id)
        scope.ctx = ctx
        self.opened.append(ctx.run_id)
        await self.bus.publish(ctx.user_id, event(ctx.run_id, 1, "agent_started"))
        try:
            yield scope
        finally:
            await scope.close_gate.wait()
            await self.threads.append(ctx.user_id, ctx.thread_id, Turn(
                run_id=ctx.run_id, message="m", status="ok", started_at="s", ended_at="e",
                answer="a"))
            await self.bus.publish(ctx.user_id, event(ctx.run_id, 2, "agent_completed"))
            scope.closed = True


class World:
    """A clock, an in-memory bus on that clock, and the run managers (instances) using it."""

    def __init__(self, *, bus_retention_s: float = 900.0) -> None:
        self.clock = Clock()
        self.bus = InMemoryEventBus(retention_s=bus_retention_s, clock=self.clock)
        self.managers: list[RunSupervisor] = []
        self.quotas: list[MemoryUserQuotas] = []
        self.threads = InMemoryThreadStore()

    def manager(
        self,
        scopes: Scopes | None = None,
        *,
        runs_per_user: int = 100,
        chats_per_minute: int = 1000,
        retention_s: float = 900.0,
        max_remembered_requests: int = 100_000,
        on_busy: OnBusy = "reject",
    ) -> tuple[RunSupervisor, Scopes]:
        scopes = scopes or Scopes(self.bus, self.threads)
        ledger = MemoryRequestLedger(retention_s=retention_s,
                                     max_requests=max_remembered_requests, clock=self.clock)
        quotas = MemoryUserQuotas(runs_per_user=runs_per_user,
                                  chats_per_minute=chats_per_minute, clock=self.clock)
        admission = MemoryRunAdmission(ledger=ledger, quotas=quotas)
        manager = RunSupervisor(scope_factory=scopes, bus=self.bus, admission=admission,
                                ledger=ledger, quotas=quotas, threads=self.threads,
                                on_busy=on_busy)
        self.quotas.append(quotas)
        self.managers.append(manager)
        return manager, scopes


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World()
    yield w
    for manager in w.managers:  # no run task outlives its test
        await guarded(manager.shutdown(0))


def chat(user_id: str = "ada", request_id: str | None = None) -> UserExecutionContext:
    return UserExecutionContext.for_user(user_id, request_id=request_id)


def task_of(started: Started) -> asyncio.Task[None]:
    assert started.task is not None, "expected a new run"
    return started.task


async def finish(scopes: Scopes, started: Started) -> None:
    """Let the run end ok and wait for its task."""
    scopes.of(started.run_id).release.set()
    await guarded(task_of(started))


async def refused(
    manager: RunSupervisor, ctx: UserExecutionContext, message: str = "hi"
) -> ToolwireError:
    with pytest.raises((RateLimitedError, UnavailableError)) as caught:
        await manager.start(ctx, message)
    return caught.value


# -- Starting runs -------------------------------------------------------------------------


async def test_start_runs_the_message_in_a_scope_of_its_context_as_a_server_task(
    world: World,
) -> None:
    manager, scopes = world.manager()
    ctx = chat()
    started = await manager.start(ctx, "hello")
    assert started.run_id == ctx.run_id and not started.repeated
    assert manager.is_live(ctx.run_id) and manager.live_count == 1
    scope = scopes.of(ctx.run_id)
    await guarded(scope.started.wait())
    assert scope.ctx is ctx and scope.messages == ["hello"]
    await finish(scopes, started)
    assert scope.outcome == "ok" and scope.closed
    assert not manager.is_live(ctx.run_id) and manager.live_count == 0


async def test_a_failing_run_is_logged_and_its_task_ends_quietly(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    manager, scopes = world.manager()
    ctx = chat()
    scopes.of(ctx.run_id).error = ValueError("agent bug")
    with caplog.at_level(logging.ERROR, logger="toolwire.services.supervisor"):
        await finish(scopes, await manager.start(ctx, "hi"))  # raises nothing
    assert scopes.of(ctx.run_id).outcome == "failed" and scopes.of(ctx.run_id).closed
    assert manager.live_count == 0
    [record] = caplog.records
    assert record.getMessage() == "run failed"
    assert record.exc_info is not None and record.exc_info[0] is ValueError
    assert (getattr(record, "run_id", None), getattr(record, "user_id", None)) == (
        ctx.run_id, "ada")


async def test_a_scope_that_cannot_open_frees_the_users_run_slot(world: World) -> None:
    manager, scopes = world.manager(runs_per_user=1)
    scopes.refuse = RuntimeError("cannot build the scope")
    await guarded(task_of(await manager.start(chat(), "hi")))
    assert manager.live_count == 0
    scopes.refuse = None
    assert (await manager.start(chat(), "again")).task is not None


# -- limits.runs_per_user --------------------------------------------------------------------


async def test_runs_per_user_limits_the_concurrent_runs_of_each_user(world: World) -> None:
    manager, scopes = world.manager(runs_per_user=2)
    first = await manager.start(chat("ada"), "1")
    await manager.start(chat("ada"), "2")
    error = await refused(manager, chat("ada"))
    assert isinstance(error, RateLimitedError)
    assert str(error) == ("at most 2 runs may go at once (limits.runs_per_user); "
                             "retry when one has ended")
    assert (await manager.start(chat("bob"), "other user")).task is not None
    await finish(scopes, first)
    assert (await manager.start(chat("ada"), "3")).task is not None
    assert isinstance(await refused(manager, chat("ada")), RateLimitedError)  # 2 going again
    assert manager.live_count == 3


async def test_a_users_run_slot_is_free_before_the_run_scope_has_closed(world: World) -> None:
    manager, scopes = world.manager(runs_per_user=1)
    started = await manager.start(chat(), "1")
    scope = scopes.of(started.run_id)
    scope.close_gate.clear()
    scope.release.set()
    await eventually(lambda: scope.outcome == "ok")
    assert not scope.closed and not task_of(started).done()
    assert not manager.is_live(started.run_id)
    assert (await manager.start(chat(), "2")).task is not None  # the client may chat again at once
    scope.close_gate.set()
    await guarded(task_of(started))


async def test_a_run_cancelled_before_it_began_frees_its_slot(world: World) -> None:
    manager, scopes = world.manager(runs_per_user=1)
    started = await manager.start(chat(), "1")
    await manager.cancel("ada", started.run_id)  # the task has not taken a step yet
    with pytest.raises(asyncio.CancelledError):
        await guarded(task_of(started))
    assert scopes.opened == []
    assert manager.live_count == 0 and not manager.is_live(started.run_id)
    assert (await manager.start(chat(), "2")).task is not None


async def test_a_chat_refused_for_too_many_runs_leaves_no_trace(world: World) -> None:
    manager, scopes = world.manager(runs_per_user=1, chats_per_minute=2)
    first = await manager.start(chat(request_id="q-1"), "1")
    await refused(manager, chat(request_id="q-2"))
    await finish(scopes, first)
    retry = await manager.start(chat(request_id="q-2"), "retry")  # not taken for a repeat
    assert retry.task is not None  # and the refused chat did not use up the minute


# -- limits.chats_per_minute -----------------------------------------------------------------


async def test_chats_per_minute_is_a_sliding_window_per_user(world: World) -> None:
    manager, _ = world.manager(chats_per_minute=2)
    world.clock.now = 0.0
    await manager.start(chat("ada"), "1")
    world.clock.now = 10.0
    await manager.start(chat("ada"), "2")
    world.clock.now = 20.0
    error = await refused(manager, chat("ada"))
    assert isinstance(error, RateLimitedError)
    assert str(error) == ("at most 2 chats a minute (limits.chats_per_minute); "
                             "retry in 40 s")
    assert (await manager.start(chat("bob"), "another user's window")).task is not None
    world.clock.now = 59.9
    await refused(manager, chat("ada"))
    world.clock.now = 60.0  # the chat at 0 has left the window; refused chats never entered
    assert (await manager.start(chat("ada"), "3")).task is not None
    world.clock.now = 61.0
    assert str(await refused(manager, chat("ada"))).endswith("retry in 9 s")
    world.clock.now = 70.0
    assert (await manager.start(chat("ada"), "4")).task is not None


async def test_idle_users_chat_windows_are_swept_and_active_ones_kept(world: World) -> None:
    manager, _ = world.manager(chats_per_minute=1)
    world.clock.now = 0.0
    await manager.start(chat("ada"), "1")
    world.clock.now = 31.0  # a sweep: ada chatted within the minute, so her window stays
    await manager.start(chat("bob"), "1")
    world.clock.now = 40.0
    assert isinstance(await refused(manager, chat("ada")), RateLimitedError)
    world.clock.now = 61.0  # the next sweep: ada has been idle for a minute
    await manager.start(chat("carol"), "1")
    assert world.quotas[-1].tracked_users() == {"bob", "carol"}  # bounded by active users


# -- request_id memory -----------------------------------------------------------------------


async def test_a_repeated_request_id_names_the_live_run_and_starts_nothing(world: World) -> None:
    manager, scopes = world.manager(runs_per_user=1, chats_per_minute=1)
    first = await manager.start(chat(request_id="q-1"), "hello")
    again = await manager.start(chat(request_id="q-1"), "hello")  # a new context: another run id
    assert again == Started(first.run_id, None) and again.repeated
    assert (await manager.start(chat(request_id="q-1"), "hello")).repeated  # no limit applies
    await guarded(scopes.of(first.run_id).started.wait())
    assert scopes.opened == [first.run_id] and manager.live_count == 1


async def test_a_request_id_is_remembered_retention_s_after_its_run_ended(world: World) -> None:
    manager, scopes = world.manager(retention_s=10.0)
    first = await manager.start(chat(request_id="q-1"), "hello")
    world.clock.now = 100.0
    await finish(scopes, first)
    world.clock.now = 109.9
    assert await manager.start(chat(request_id="q-1"), "hello") == Started(first.run_id, None)
    world.clock.now = 110.0
    later = await manager.start(chat(request_id="q-1"), "hello")
    assert later.task is not None and later.run_id != first.run_id


async def test_request_ids_belong_to_their_user(world: World) -> None:
    manager, _ = world.manager()
    ada = await manager.start(chat("ada", "q-1"), "hello")
    bob = await manager.start(chat("bob", "q-1"), "hello")
    assert bob.task is not None and bob.run_id != ada.run_id


async def test_remembered_request_ids_are_bounded_forgetting_the_oldest(world: World) -> None:
    manager, _ = world.manager(max_remembered_requests=2)
    runs = {q: (await manager.start(chat(request_id=q), q)).run_id for q in ("q-1", "q-2", "q-3")}
    assert await manager.start(chat(request_id="q-2"), "x") == Started(runs["q-2"], None)
    assert await manager.start(chat(request_id="q-3"), "x") == Started(runs["q-3"], None)
    assert (await manager.start(chat(request_id="q-1"), "x")).task is not None


async def test_a_request_id_forgotten_for_the_bound_keeps_its_new_run_past_the_old_expiry(
    world: World,
) -> None:
    manager, scopes = world.manager(retention_s=100.0, max_remembered_requests=1)
    await finish(scopes, await manager.start(chat(request_id="q-a"), "1"))  # q-a expires at 100
    await manager.start(chat(request_id="q-b"), "2")  # the bound forgets q-a
    second = await manager.start(chat(request_id="q-a"), "3")
    assert second.task is not None
    world.clock.now = 150.0  # past the first q-a run's expiry; the second one is still going
    assert await manager.start(chat(request_id="q-a"), "4") == Started(second.run_id, None)


# -- Ownership and cancelling ----------------------------------------------------------------


async def test_check_owner_accepts_the_owners_live_run_and_hides_it_from_others(
    world: World,
) -> None:
    manager, _ = world.manager()
    run_id = (await manager.start(chat("ada"), "hi")).run_id
    await manager.check_owner("ada", run_id)
    with pytest.raises(RunNotFoundError) as other:
        await manager.check_owner("bob", run_id)
    with pytest.raises(RunNotFoundError) as unknown:
        await manager.check_owner("bob", "r_unknown")
    # Another user's run gets the very answer an unknown run gets.
    assert (str(other.value).replace(run_id, "R")
            == str(unknown.value).replace("r_unknown", "R")
            == "no run 'R' (unknown, expired, or not yours)")


async def test_check_owner_asks_the_bus_about_runs_not_live_here() -> None:
    world = World(bus_retention_s=10.0)
    manager, scopes = world.manager()
    started = await manager.start(chat("ada"), "hi")
    await finish(scopes, started)  # ended at 0, kept by the bus until 10
    assert not manager.is_live(started.run_id)
    await manager.check_owner("ada", started.run_id)
    with pytest.raises(RunNotFoundError, match="not yours"):
        await manager.check_owner("bob", started.run_id)
    world.clock.now = 10.0
    with pytest.raises(RunNotFoundError):
        await manager.check_owner("ada", started.run_id)


async def test_cancel_cancels_the_callers_live_run(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    manager, scopes = world.manager()
    started = await manager.start(chat("ada"), "hi")
    scope = scopes.of(started.run_id)
    await guarded(scope.started.wait())
    with caplog.at_level(logging.INFO, logger="toolwire.services.supervisor"):
        await manager.cancel("ada", started.run_id)
        with pytest.raises(asyncio.CancelledError):
            await guarded(task_of(started))
    assert scope.outcome == "cancelled" and scope.closed
    assert manager.live_count == 0
    assert [(r.getMessage(), getattr(r, "run_id", None)) for r in caplog.records] == [
        ("run cancelled", started.run_id)]


async def test_cancel_of_another_users_or_an_unknown_run_is_not_found(world: World) -> None:
    manager, scopes = world.manager()
    started = await manager.start(chat("ada"), "hi")
    for run_id in (started.run_id, "r_unknown"):
        with pytest.raises(RunNotFoundError):
            await manager.cancel("bob", run_id)
    await guarded(scopes.of(started.run_id).started.wait())
    assert not task_of(started).cancelling() and manager.is_live(started.run_id)


async def test_cancel_of_the_callers_ended_run_is_a_no_op(world: World) -> None:
    manager, scopes = world.manager()
    started = await manager.start(chat("ada"), "hi")
    await finish(scopes, started)
    await manager.cancel("ada", started.run_id)
    assert scopes.of(started.run_id).outcome == "ok"


async def test_cancel_reaches_the_instance_running_the_run_through_the_bus(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    here, scopes = world.manager()
    elsewhere, _ = world.manager()
    listening = await here.listen_for_cancels()
    started = await here.start(chat("ada"), "hi")
    scope = scopes.of(started.run_id)
    await guarded(scope.started.wait())
    with pytest.raises(RunNotFoundError, match="not yours"):  # the bus names the owner
        await elsewhere.cancel("bob", started.run_id)
    assert not task_of(started).cancelling()
    with caplog.at_level(logging.INFO, logger="toolwire.services.supervisor"):
        await elsewhere.cancel("ada", started.run_id)
        with pytest.raises(asyncio.CancelledError):
            await guarded(task_of(started))
    assert scope.outcome == "cancelled"
    assert "run cancelled on request through the bus" in [r.getMessage() for r in caplog.records]
    await listening.close()


async def test_a_closed_cancel_listener_hears_no_more_cancels(world: World) -> None:
    here, scopes = world.manager()
    elsewhere, _ = world.manager()
    listening = await here.listen_for_cancels()
    await listening.close()
    started = await here.start(chat("ada"), "hi")
    await guarded(scopes.of(started.run_id).started.wait())
    await elsewhere.cancel("ada", started.run_id)
    assert not task_of(started).cancelling() and here.is_live(started.run_id)


async def test_cancel_requests_for_runs_not_here_leave_local_runs_alone(world: World) -> None:
    manager, _ = world.manager()
    listening = await manager.listen_for_cancels()
    started = await manager.start(chat("ada"), "hi")
    await world.bus.request_cancel("r_elsewhere")
    assert not task_of(started).cancelling() and manager.is_live(started.run_id)
    await listening.close()


async def test_cancel_runs_of_cancels_every_run_of_that_user_only(world: World) -> None:
    manager, _ = world.manager()
    ada = [await manager.start(chat("ada"), str(n)) for n in range(2)]
    bob = await manager.start(chat("bob"), "hi")
    manager.cancel_runs_of("ada")
    assert all(task_of(s).cancelling() for s in ada)
    assert not task_of(bob).cancelling()
    await guarded(asyncio.wait([task_of(s) for s in ada]))
    assert manager.live_count == 1 and manager.is_live(bob.run_id)


# -- Shutdown --------------------------------------------------------------------------------


async def test_shutdown_refuses_new_runs_but_still_names_remembered_ones(world: World) -> None:
    manager, scopes = world.manager()
    first = await manager.start(chat(request_id="q-1"), "hi")
    await finish(scopes, first)
    assert manager.accepting
    await guarded(manager.shutdown(60))  # nothing running: returns at once
    assert not manager.accepting
    error = await refused(manager, chat(request_id="q-2"))
    assert isinstance(error, UnavailableError) and "shutting down" in str(error)
    assert await manager.start(chat(request_id="q-1"), "hi") == Started(first.run_id, None)


async def test_shutdown_gives_running_runs_the_grace_to_finish(world: World) -> None:
    manager, scopes = world.manager()
    started = await manager.start(chat(), "hi")
    scope = scopes.of(started.run_id)
    await guarded(scope.started.wait())
    stopping = asyncio.ensure_future(manager.shutdown(60))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not stopping.done() and not task_of(started).cancelling()
    scope.release.set()
    await guarded(stopping)
    assert scope.outcome == "ok" and scope.closed


async def test_shutdown_cancels_runs_still_going_after_the_grace_and_waits_for_them(
    world: World,
) -> None:
    manager, scopes = world.manager()
    started = await manager.start(chat(), "hi")
    scope = scopes.of(started.run_id)
    await guarded(scope.started.wait())
    scope.close_gate.clear()  # the cancelled run takes its time to close its scope
    stopping = asyncio.ensure_future(manager.shutdown(0.001))
    await eventually(lambda: scope.outcome == "cancelled", within=HANG_GUARD_S)
    assert not stopping.done()  # shutdown waits for the run to end, not just for the cancel
    scope.close_gate.set()
    await guarded(stopping)
    assert task_of(started).cancelled() and scope.closed
    assert manager.live_count == 0


async def test_a_run_that_ended_keeps_no_claim_on_its_request_id_once_another_holds_it(
    world: World,
) -> None:
    manager, scopes = world.manager(max_remembered_requests=1, retention_s=10)
    first = await manager.start(chat(request_id="q-1"), "hi")
    await manager.start(chat(request_id="q-2"), "hi")  # the bound forgets q-1 while its run goes on
    retry = await manager.start(chat(request_id="q-1"), "hi")  # so a retry starts a second run
    assert retry.task is not None and retry.run_id != first.run_id
    await finish(scopes, first)  # the first run ending must not schedule q-1's expiry
    world.clock.now += 11
    assert await manager.start(chat(request_id="q-1"), "hi") == Started(retry.run_id, None)


async def test_a_run_that_published_nothing_frees_its_request_id_for_the_retry(
    world: World,
) -> None:
    manager, scopes = world.manager()
    scopes.refuse = ConnectionError("the event bus went down")  # nothing is published
    silent = await manager.start(chat(request_id="q-1"), "hi")
    await guarded(task_of(silent))
    scopes.refuse = None
    retry = await manager.start(chat(request_id="q-1"), "hi")
    assert retry.task is not None and retry.run_id != silent.run_id
    await finish(scopes, retry)


async def test_a_cancel_aimed_at_shutdown_itself_is_not_swallowed(world: World) -> None:
    manager, scopes = world.manager()
    started = await manager.start(chat(), "hi")
    await guarded(scopes.of(started.run_id).started.wait())
    scopes.of(started.run_id).close_gate.clear()  # the cancelled run is slow to close
    stopping = asyncio.ensure_future(manager.shutdown(0))
    await asyncio.sleep(0.01)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await guarded(stopping)
    scopes.of(started.run_id).close_gate.set()


async def test_a_request_id_the_server_made_up_takes_no_memory(world: World) -> None:
    manager, scopes = world.manager()
    made_up = chat()  # the client sent none: no client can retry with it
    first = await manager.start(made_up, "hi", remember=False)
    await finish(scopes, first)
    again = await manager.start(chat(request_id=made_up.request_id), "hi", remember=False)
    assert again.task is not None and again.run_id != first.run_id
    assert (await manager.start(chat(request_id="q-1"), "hi")).task is not None  # sent: remembered
    assert (await manager.start(chat(request_id="q-1"), "hi")).task is None


async def test_a_run_that_failed_while_the_bus_is_down_frees_its_request_id(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, scopes = world.manager()
    scopes.refuse = ConnectionError("the event bus went down")

    async def bus_down(run_id: str) -> str | None:
        raise ConnectionError("the event bus is down")

    monkeypatch.setattr(world.bus, "run_owner", bus_down)
    silent = await manager.start(chat(request_id="q-1"), "hi")
    await guarded(task_of(silent))  # it cannot tell whether anything was kept: nothing was
    monkeypatch.undo()
    scopes.refuse = None
    retry = await manager.start(chat(request_id="q-1"), "hi")
    assert retry.task is not None and retry.run_id != silent.run_id
    await finish(scopes, retry)


# -- One run at a time per thread ---------------------------------------------------------


def on_thread(thread_id: str, request_id: str | None = None,
              user_id: str = "ada") -> UserExecutionContext:
    return UserExecutionContext.for_user(user_id, thread_id=thread_id, request_id=request_id)


async def test_reject_refuses_a_chat_on_a_busy_thread_naming_its_run(world: World) -> None:
    manager, scopes = world.manager()
    first = await manager.start(on_thread("t", "q1"), "one")
    with pytest.raises(ThreadBusyError, match=first.run_id):
        await manager.start(on_thread("t", "q2"), "two")
    other = await manager.start(on_thread("elsewhere"), "three")  # other threads go on
    mallory = await manager.start(on_thread("t", user_id="mallory"), "hers")  # her own "t"
    again = await manager.start(on_thread("t", "q1"), "one")  # a retry is still a replay
    assert again.repeated and again.run_id == first.run_id
    assert manager.live_count == 3
    for started in (first, other, mallory):
        await finish(scopes, started)
    retry = await manager.start(on_thread("t", "q2"), "two")  # the refusal kept no claim
    await finish(scopes, retry)
    assert scopes.of(retry.run_id).outcome == "ok"


async def test_enqueue_starts_the_next_run_when_the_thread_is_free(world: World) -> None:
    manager, scopes = world.manager(on_busy="enqueue")
    first = await manager.start(on_thread("t"), "one")
    second = await manager.start(on_thread("t"), "two")
    await guarded(scopes.of(first.run_id).started.wait())
    await asyncio.sleep(0.05)
    assert second.run_id not in scopes.opened  # no agent_started until the first ended
    await finish(scopes, first)
    await guarded(scopes.of(second.run_id).started.wait())
    await finish(scopes, second)
    assert scopes.opened == [first.run_id, second.run_id]


async def test_interrupt_cancels_the_run_going_then_starts(world: World) -> None:
    manager, scopes = world.manager(on_busy="interrupt")
    first = await manager.start(on_thread("t"), "one")
    await guarded(scopes.of(first.run_id).started.wait())
    second = await manager.start(on_thread("t"), "two")
    await guarded(scopes.of(second.run_id).started.wait())
    assert scopes.of(first.run_id).outcome == "cancelled"
    await finish(scopes, second)


async def test_a_thread_held_on_another_instance_is_busy_here_too(world: World) -> None:
    here, scopes = world.manager()
    there, there_scopes = world.manager(on_busy="enqueue")
    first = await here.start(on_thread("t"), "one")
    with pytest.raises(ThreadBusyError):
        await world.manager()[0].start(on_thread("t"), "two")
    queued = await there.start(on_thread("t"), "three")  # polls the store: not its own run
    await asyncio.sleep(0.05)
    assert queued.run_id not in there_scopes.opened
    await finish(scopes, first)
    await guarded(there_scopes.of(queued.run_id).started.wait())
    await finish(there_scopes, queued)
