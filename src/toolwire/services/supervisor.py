"""`RunSupervisor`: the server's runs, each a task in its own request scope.

It admits runs (not while shutting down, not while the event bus is down), makes a repeated
`request_id` name its earlier run instead of starting another and counts each user's runs
(both in one step, through the run admission; the request ledger and user quotas serve the
rest), lets one run at a time go on each thread (through the thread store, whose claims
every instance sees; `on_busy` says what a chat on a busy thread does), cancels runs here
or, through the bus, on the instance running them, and drains them on shutdown. It knows no
transport: problems are domain errors, which each protocol maps to its own codes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import (
    RunNotFoundError,
    RunTakenOverError,
    ThreadBusyError,
    UnavailableError,
)
from toolwire.services.ports import (
    EventBus,
    RequestLedger,
    RunAdmission,
    Subscription,
    ThreadStore,
    UserQuotas,
)
from toolwire.services.threads.history import HistoryBounds
from toolwire.services.threads.models import Turn

log = logging.getLogger(__name__)

SHUTTING_DOWN: Final = ("the server is shutting down; no new runs start here, retry on another "
                        "instance or later")
BUS_DOWN: Final = "the event bus is unavailable; no run started, try again shortly"
FIRST_POLL_S: Final = 0.02
MAX_POLL_S: Final = 0.5
"""How often a queued run asks again whether its thread is free (held on another instance)."""

OnBusy = Literal["reject", "enqueue", "interrupt"]


class RunScope(Protocol):
    """What a run needs of its request scope: run one message."""

    async def run(self, message: str, history: Sequence[Turn] | None = None, *,
                  thread_held: bool = False) -> Any:
        """Run the agent on `message` (seeing `history`, else the stored thread); the run
        claims its thread unless `thread_held`."""
        ...


ScopeFactory = Callable[[UserExecutionContext], AbstractAsyncContextManager[RunScope]]


@dataclass(frozen=True, slots=True)
class Started:
    """What `RunSupervisor.start` did: a new run (`task`), or an earlier one of this request."""

    run_id: str
    task: asyncio.Task[None] | None

    @property
    def repeated(self) -> bool:
        """Return True when the `request_id` already had a run (no new run started)."""
        return self.task is None


@dataclass(slots=True)
class _LiveRun:
    ctx: UserExecutionContext
    task: asyncio.Task[None]
    remembered: bool
    settled: bool = False
    ended: bool = False  # the scope's run returned: its turn was stored and freed the thread


class RunSupervisor:
    """Starts, cancels and drains the runs of this instance."""

    def __init__(
        self,
        *,
        scope_factory: ScopeFactory,
        bus: EventBus,
        admission: RunAdmission,
        ledger: RequestLedger,
        quotas: UserQuotas,
        threads: ThreadStore,
        on_busy: OnBusy = "reject",
        hold_s: float = 3600.0,
        history_bounds: HistoryBounds | None = None,
    ) -> None:
        self._scope_factory = scope_factory
        self._bus = bus
        self._admission = admission
        self._ledger = ledger
        self._quotas = quotas
        self._threads = threads
        self._on_busy = on_busy
        self._hold_s = hold_s
        self._history_bounds = history_bounds  # read with the claim (else the run reads it)
        self._live: dict[str, _LiveRun] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._chores: set[asyncio.Task[None]] = set()
        self._accepting = True

    @property
    def live_count(self) -> int:
        """Return how many run tasks are going."""
        return len(self._tasks)

    @property
    def accepting(self) -> bool:
        """Return False once shutdown began."""
        return self._accepting

    async def admit(self, user_id: str, *, quota: bool = True) -> None:
        """Raise unless a run of `user_id` could start now: `UnavailableError` while shutting
        down or with the bus down, `RateLimitedError` past a quota (nothing is counted;
        `quota=False` leaves that to `start`, which counts the run, saving a look at the
        quotas when nothing costly comes between the two).

        A run that could not publish could not even say it started, so during a bus outage a
        chat is refused at once, and its `request_id` stays free for the retry.
        """
        if not self._accepting:
            raise UnavailableError(SHUTTING_DOWN)
        if not await self._bus.ping():
            raise UnavailableError(BUS_DOWN)
        if quota:
            await self._quotas.check(user_id)

    async def start(
        self, ctx: UserExecutionContext, message: str, *, remember: bool = True,
        history: Sequence[Turn] | None = None,
    ) -> Started:
        """Start a run of `ctx`, or name the run its `request_id` already started.

        `remember=False` for a `request_id` the server made up: no client can retry with it,
        so the ledger never sees it. `history` (an AG-UI client's own) replaces the stored
        thread. Raises `UnavailableError` while shutting down, `RateLimitedError` past a
        quota and `ThreadBusyError` when the thread has a run going and `on_busy` is
        `reject`; a refused chat leaves no claim behind. With `enqueue` the run starts once
        the thread is free; with `interrupt` the run going is cancelled first.
        """
        request_id = ctx.request_id if remember else None
        if not self._accepting:
            return await self._refuse_while_shutting_down(ctx, request_id)
        earlier = await self._admission.admit(ctx.user_id, ctx.run_id, request_id)
        if earlier is not None:
            return Started(earlier, None)
        try:
            if not self._accepting:
                raise UnavailableError(SHUTTING_DOWN)
            holder, stored = await self._hold_thread(ctx, message, read=history is None)
        except BaseException:
            await self._admission.release(ctx.user_id, ctx.run_id, request_id)
            raise
        task = asyncio.get_running_loop().create_task(
            self._run(ctx, message, history if history is not None else stored, holder),
            name=f"run-{ctx.run_id}")
        live = self._live[ctx.run_id] = _LiveRun(ctx, task, remember)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._settle_later(live))  # also if it never ran
        return Started(ctx.run_id, task)

    async def _refuse_while_shutting_down(
        self, ctx: UserExecutionContext, request_id: str | None,
    ) -> Started:
        """Name the run `request_id` already started, else raise `UnavailableError`."""
        if request_id is not None:
            earlier = await self._ledger.claim(ctx.user_id, request_id, ctx.run_id)
            if earlier is not None:
                return Started(earlier, None)
            await self._ledger.release(ctx.user_id, request_id, ctx.run_id)
        raise UnavailableError(SHUTTING_DOWN)

    async def check_owner(self, user_id: str, run_id: str) -> None:
        """Raise `RunNotFoundError` unless `run_id` is a live or kept run of `user_id`.

        Another user's run gets the very same answer as an unknown one.
        """
        live = self._live.get(run_id)
        owner = live.ctx.user_id if live is not None else await self._bus.run_owner(run_id)
        if owner != user_id:
            raise RunNotFoundError(run_id)

    def is_live(self, run_id: str) -> bool:
        """Return True while `run_id` runs on this instance."""
        return run_id in self._live

    async def cancel(self, user_id: str, run_id: str) -> None:
        """Cancel `run_id` if it is `user_id`'s, here or through the bus where it runs.

        An own run that already ended is a no-op.
        """
        await self.check_owner(user_id, run_id)
        live = self._live.get(run_id)
        if live is not None:
            live.task.cancel()
        else:
            await self._bus.request_cancel(run_id)

    async def listen_for_cancels(self) -> Subscription:
        """Cancel the runs of this instance that any instance asks the bus to cancel."""
        return await self._bus.on_cancel(self._cancel_if_here)

    def cancel_runs_of(self, user_id: str) -> None:
        """Cancel every run of `user_id` on this instance."""
        for live in list(self._live.values()):
            if live.ctx.user_id == user_id:
                live.task.cancel()

    def cancel_if_unwatched(self, user_id: str) -> None:
        """Cancel the runs of `user_id` here unless another instance holds a socket of theirs.

        Called once the user's last socket on this instance closed (`runs.cancel_on_disconnect`).
        """
        async def check() -> None:
            if await self._bus.watched_elsewhere(user_id):
                return
            self.cancel_runs_of(user_id)
            try:  # the runs of theirs other instances run: this may be where the last one was
                for run_id in await self._bus.runs_elsewhere(user_id):
                    await self._bus.request_cancel(run_id)
            except Exception:
                log.exception("could not cancel the user's runs on other instances",
                              extra={"user_id": user_id})

        self._chore(check())

    async def shutdown(self, grace_s: float) -> None:
        """Refuse new runs, give live ones `grace_s`, then cancel and await the rest."""
        self._accepting = False
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=grace_s)
            for task in tasks:
                if not task.done():
                    task.cancel()
            # gather: a cancel aimed at shutdown itself still propagates, unlike one per task
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._chores:
            await asyncio.gather(*self._chores, return_exceptions=True)

    async def _hold_thread(
        self, ctx: UserExecutionContext, message: str, *, read: bool,
    ) -> tuple[str | None, Sequence[Turn] | None]:
        """Claim the run's thread; return the run holding it when this one must wait, and
        (when `read` and the claim holds) the thread's history, read in the same step."""
        bounds = self._history_bounds
        stored: Sequence[Turn] | None = None
        if read and bounds is not None:
            holder, stored = await self._threads.claim_reading(
                ctx.user_id, ctx.thread_id, ctx.run_id, message=message, hold_s=self._hold_s,
                max_turns=bounds.max_turns, max_bytes=bounds.max_bytes)
        else:
            holder = await self._threads.claim(ctx.user_id, ctx.thread_id, ctx.run_id,
                                               message=message, hold_s=self._hold_s)
        if holder is None:
            return None, stored
        if self._on_busy == "reject":
            raise ThreadBusyError(ctx.thread_id, holder)
        if self._on_busy == "interrupt":
            log.info("interrupting run %s of the thread", holder,
                     extra={"run_id": ctx.run_id, "user_id": ctx.user_id})
            live = self._live.get(holder)
            if live is not None:
                live.task.cancel()
            else:
                await self._bus.request_cancel(holder)
        return holder, None

    async def _wait_for_thread(self, ctx: UserExecutionContext, message: str,
                               holder: str) -> None:
        """Wait until the thread's run (here or on any instance) has ended, then claim it."""
        delay = FIRST_POLL_S
        while True:
            live = self._live.get(holder)
            if live is not None:
                await asyncio.wait([live.task])  # never cancels the run waited for
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_POLL_S)
            next_holder = await self._threads.claim(
                ctx.user_id, ctx.thread_id, ctx.run_id, message=message, hold_s=self._hold_s)
            if next_holder is None:
                return
            if next_holder != holder:
                holder, delay = next_holder, FIRST_POLL_S

    async def _run(self, ctx: UserExecutionContext, message: str,
                   history: Sequence[Turn] | None, holder: str | None) -> None:
        extra = {"run_id": ctx.run_id, "user_id": ctx.user_id}
        live = self._live[ctx.run_id]
        try:
            if holder is not None:
                await self._wait_for_thread(ctx, message, holder)
            async with self._scope_factory(ctx) as scope:
                try:
                    await scope.run(message, history, thread_held=True)
                    live.ended = True
                finally:
                    await self._settle(live)  # before the scope closes: the client may chat again
        except asyncio.CancelledError:
            log.info("run cancelled", extra=extra)
            raise
        except RunTakenOverError:
            log.warning("run stopped here: another instance ended it", extra=extra)
        except Exception:
            log.exception("run failed", extra=extra)
            if live.remembered and not await self._published(ctx):
                # Nothing of this run can be replayed, so a retry must start a new one.
                await self._ledger.release(ctx.user_id, ctx.request_id, ctx.run_id)

    async def _published(self, ctx: UserExecutionContext) -> bool:
        """Return True when the bus keeps any event of the run (False when it cannot tell)."""
        try:
            return await self._bus.run_owner(ctx.run_id) is not None
        except Exception:
            return False  # the bus is down: nothing of this run can be replayed either

    async def _settle(self, live: _LiveRun) -> None:
        """Free the run's quota and start its ledger claim's retention (once per run)."""
        if live.settled:
            return
        live.settled = True
        ctx = live.ctx
        if self._live.get(ctx.run_id) is live:
            del self._live[ctx.run_id]
        try:
            await self._admission.settle(ctx.user_id, ctx.run_id,
                                         ctx.request_id if live.remembered else None)
            if not live.ended:  # a run that ended without storing its turn frees the thread
                await self._threads.release(ctx.user_id, ctx.thread_id, ctx.run_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not settle the run's quota, request id and thread",
                          extra={"run_id": ctx.run_id, "user_id": ctx.user_id})

    def _settle_later(self, live: _LiveRun) -> None:
        """Settle a run whose task ended without doing so (cancelled before it ran)."""
        if not live.settled:
            if self._live.get(live.ctx.run_id) is live:
                del self._live[live.ctx.run_id]  # at once: it is not live any more
            self._chore(self._settle(live))

    def _cancel_if_here(self, run_id: str) -> None:
        live = self._live.get(run_id)
        if live is not None:
            log.info("run cancelled on request through the bus",
                     extra={"run_id": run_id, "user_id": live.ctx.user_id})
            live.task.cancel()

    def _chore(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)
