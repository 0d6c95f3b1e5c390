"""`RunManager`: the server's runs, each a task in its own request scope, with per-user limits."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from toolwire.adapters.web.errors import NOT_FOUND, RATE_LIMITED, UNAVAILABLE, WireError
from toolwire.services.context import UserExecutionContext
from toolwire.services.ports import EventBus, Subscription
from toolwire.services.threads.models import Turn

log = logging.getLogger(__name__)

MINUTE_S = 60.0
SHUTTING_DOWN = "the server is shutting down; no new runs start here, retry on another " \
    "instance or later"


class RunScope(Protocol):
    """What the server needs of a request scope: run one message."""

    async def run(self, message: str, history: Sequence[Turn] | None = None) -> Any:
        """Run the agent on `message` (seeing `history`, else its stored thread)."""
        ...


ScopeFactory = Callable[[UserExecutionContext], AbstractAsyncContextManager[RunScope]]


@dataclass(frozen=True, slots=True)
class RunLimits:
    """Per-user quotas, and how long (and how many) `request_id`s are remembered."""

    runs_per_user: int
    chats_per_minute: int
    retention_s: float
    max_remembered_requests: int = 100_000


@dataclass(frozen=True, slots=True)
class Started:
    """What `RunManager.start` did: a new run (`task`), or an earlier one of this request."""

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


class RunManager:
    """Starts each run in its own request scope as a server-owned task."""

    def __init__(
        self,
        *,
        scope_factory: ScopeFactory,
        bus: EventBus,
        limits: RunLimits,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scope_factory = scope_factory
        self._bus = bus
        self._limits = limits
        self._clock = clock
        self._live: dict[str, _LiveRun] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._live_per_user: dict[str, int] = {}
        self._chats: dict[str, deque[float]] = {}
        # (user, request_id) -> run_id; ended runs expire `retention_s` after they end.
        self._requests: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._forget_at: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._accepting = True
        self._next_sweep = 0.0

    @property
    def live_count(self) -> int:
        """Return how many run tasks are going."""
        return len(self._tasks)

    @property
    def accepting(self) -> bool:
        """Return False once shutdown began."""
        return self._accepting

    async def admit(self) -> None:
        """Raise `unavailable` unless a run could start now: not shutting down, the bus up.

        A run that could not publish could not even say it started, so during a bus outage a
        chat is refused at once, and its `request_id` stays free for the retry.
        """
        if not self._accepting:
            raise WireError(UNAVAILABLE, SHUTTING_DOWN)
        if not await self._bus.ping():
            raise WireError(UNAVAILABLE, "the event bus is unavailable; no run started, "
                            "try again shortly")

    def start(self, ctx: UserExecutionContext, message: str, *, remember: bool = True,
              history: Sequence[Turn] | None = None) -> Started:
        """Start a run of `ctx`, or name the run its `request_id` already started.

        `remember=False` for a `request_id` the server made up: no client can retry with it,
        so it takes no memory. `history` (an AG-UI client's own) replaces the stored thread.
        Raises `WireError`: `unavailable` while shutting down, `rate_limited` past a limit.
        """
        self._forget_expired()
        key = (ctx.user_id, ctx.request_id)
        earlier = self._requests.get(key)
        if earlier is not None:
            return Started(earlier, None)
        if not self._accepting:
            raise WireError(UNAVAILABLE, SHUTTING_DOWN)
        if self._live_per_user.get(ctx.user_id, 0) >= self._limits.runs_per_user:
            raise WireError(RATE_LIMITED, f"at most {self._limits.runs_per_user} runs may go "
                            "at once (limits.runs_per_user); retry when one has ended")
        self._count_chat(ctx.user_id)
        task = asyncio.get_running_loop().create_task(
            self._run(ctx, message, history), name=f"run-{ctx.run_id}")
        self._live[ctx.run_id] = _LiveRun(ctx, task)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._finished(ctx))  # even if cancelled before it ran
        self._live_per_user[ctx.user_id] = self._live_per_user.get(ctx.user_id, 0) + 1
        if remember:
            self._remember(key, ctx.run_id)
        return Started(ctx.run_id, task)

    async def check_owner(self, user_id: str, run_id: str) -> None:
        """Raise `not_found` unless `run_id` is a live or kept run of `user_id`.

        Another user's run gets the very same answer as an unknown one.
        """
        live = self._live.get(run_id)
        owner = live.ctx.user_id if live is not None else await self._bus.run_owner(run_id)
        if owner != user_id:
            raise WireError(NOT_FOUND, f"no run {run_id!r} (unknown, expired, or not yours)")

    def is_live(self, run_id: str) -> bool:
        """Return True while `run_id` runs on this instance."""
        return run_id in self._live

    async def cancel(self, user_id: str, run_id: str) -> None:
        """Cancel `run_id` if it is `user_id`'s, here or through the bus on the instance running it.

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

    async def shutdown(self, grace_s: float) -> None:
        """Refuse new runs, give live ones `grace_s`, then cancel and await the rest."""
        self._accepting = False
        tasks = list(self._tasks)
        if not tasks:
            return
        await asyncio.wait(tasks, timeout=grace_s)
        for task in tasks:
            if not task.done():
                task.cancel()
        # gather: a cancel aimed at shutdown itself still propagates, unlike one per task
        await asyncio.gather(*tasks, return_exceptions=True)

    def _count_chat(self, user_id: str) -> None:
        now = self._clock()
        recent = self._chats.setdefault(user_id, deque())
        while recent and recent[0] <= now - MINUTE_S:
            recent.popleft()
        if len(recent) >= self._limits.chats_per_minute:
            retry_in = recent[0] + MINUTE_S - now
            raise WireError(RATE_LIMITED, f"at most {self._limits.chats_per_minute} chats a "
                            f"minute (limits.chats_per_minute); retry in {retry_in:.0f} s")
        recent.append(now)

    async def _run(self, ctx: UserExecutionContext, message: str,
                   history: Sequence[Turn] | None) -> None:
        extra = {"run_id": ctx.run_id, "user_id": ctx.user_id}
        try:
            async with self._scope_factory(ctx) as scope:
                try:
                    await scope.run(message, history)
                finally:
                    self._finished(ctx)  # before the scope closes: the client may chat again
        except asyncio.CancelledError:
            log.info("run cancelled", extra=extra)
            raise
        except Exception:
            log.exception("run failed", extra=extra)
            await self._free_request_if_silent(ctx)

    async def _free_request_if_silent(self, ctx: UserExecutionContext) -> None:
        """Forget the `request_id` of a run that published nothing, so a retry starts one."""
        try:
            published = await self._bus.run_owner(ctx.run_id) is not None
        except Exception:
            published = False  # the bus is down: nothing of this run can be replayed either
        key = (ctx.user_id, ctx.request_id)
        if not published and self._requests.get(key) == ctx.run_id:
            del self._requests[key]
            self._forget_at.pop(key, None)

    def _cancel_if_here(self, run_id: str) -> None:
        live = self._live.get(run_id)
        if live is not None:
            log.info("run cancelled on request through the bus",
                     extra={"run_id": run_id, "user_id": live.ctx.user_id})
            live.task.cancel()

    def _finished(self, ctx: UserExecutionContext) -> None:
        if self._live.pop(ctx.run_id, None) is None:
            return
        left = self._live_per_user.get(ctx.user_id, 1) - 1
        if left > 0:
            self._live_per_user[ctx.user_id] = left
        else:
            self._live_per_user.pop(ctx.user_id, None)
        key = (ctx.user_id, ctx.request_id)
        if self._requests.get(key) == ctx.run_id:  # a later run may hold the key now
            self._forget_at[key] = self._clock() + self._limits.retention_s

    def _remember(self, key: tuple[str, str], run_id: str) -> None:
        self._requests[key] = run_id
        while len(self._requests) > self._limits.max_remembered_requests:
            oldest, _ = self._requests.popitem(last=False)
            self._forget_at.pop(oldest, None)

    def _forget_expired(self) -> None:
        now = self._clock()
        while self._forget_at:
            key, when = next(iter(self._forget_at.items()))
            if when > now:
                break
            self._forget_at.popitem(last=False)
            self._requests.pop(key, None)
        if now >= self._next_sweep:  # drop idle users' chat times, at most twice a minute
            self._next_sweep = now + MINUTE_S / 2
            for user_id in [u for u, times in self._chats.items()
                            if not times or times[-1] <= now - MINUTE_S]:
                del self._chats[user_id]
