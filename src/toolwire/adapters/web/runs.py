"""`RunManager`: owns run tasks (not sockets), request-id dedupe, limits, cancel, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from toolwire.adapters.web.errors import FORBIDDEN, NOT_FOUND, RATE_LIMITED, WireError
from toolwire.services.context import UserExecutionContext
from toolwire.services.ports import EventBus, Subscription

log = logging.getLogger(__name__)

MINUTE_S = 60.0


class RunScope(Protocol):
    """What the server needs of a request scope: run one message."""

    async def run(self, message: str) -> Any:
        """Run the agent on `message`."""
        ...


ScopeFactory = Callable[[UserExecutionContext], AbstractAsyncContextManager[RunScope]]


@dataclass(frozen=True, slots=True)
class RunLimits:
    """Per-user quotas and how long a `request_id` is remembered after its run ends."""

    runs_per_user: int
    chats_per_minute: int
    retention_s: float


@dataclass(slots=True)
class _LiveRun:
    ctx: UserExecutionContext
    task: asyncio.Task[None]


class RunManager:
    """Starts each run in its own request scope as a server-owned task."""

    def __init__(
        self,
        scope_factory: ScopeFactory,
        bus: EventBus,
        limits: RunLimits,
        *,
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
        self._requests: dict[tuple[str, str], str] = {}
        self._forget_at: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._accepting = True

    @property
    def live_count(self) -> int:
        """Return how many run tasks are going."""
        return len(self._tasks)

    def start(self, ctx: UserExecutionContext, message: str) -> asyncio.Task[None] | None:
        """Start a run of `ctx` and return its task; None for a repeated `request_id`.

        Raises `WireError` (`rate_limited`) when a limit or the shutdown refuses it.
        """
        self._forget_expired()
        key = (ctx.user_id, ctx.request_id)
        if key in self._requests:
            return None
        if not self._accepting:
            raise WireError(RATE_LIMITED, "the server is shutting down; no new runs start")
        if self._live_per_user.get(ctx.user_id, 0) >= self._limits.runs_per_user:
            raise WireError(RATE_LIMITED, f"at most {self._limits.runs_per_user} runs may go "
                            "at once (limits.runs_per_user)")
        self._count_chat(ctx.user_id)
        task = asyncio.get_running_loop().create_task(
            self._run(ctx, message), name=f"run-{ctx.run_id}")
        self._live[ctx.run_id] = _LiveRun(ctx, task)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._finished(ctx))  # even if cancelled before it ran
        self._live_per_user[ctx.user_id] = self._live_per_user.get(ctx.user_id, 0) + 1
        self._requests[key] = ctx.run_id
        return task

    def run_of_request(self, user_id: str, request_id: str) -> str | None:
        """Return the run that `request_id` of `user_id` started, while it is remembered."""
        self._forget_expired()
        return self._requests.get((user_id, request_id))

    async def check_owner(self, user_id: str, run_id: str) -> None:
        """Raise `not_found` for an unknown run and `forbidden` for another user's."""
        live = self._live.get(run_id)
        owner = live.ctx.user_id if live is not None else await self._bus.run_owner(run_id)
        if owner is None:
            raise WireError(NOT_FOUND, f"no run {run_id!r} (unknown or expired)")
        if owner != user_id:
            raise WireError(FORBIDDEN, f"run {run_id!r} belongs to another user")

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
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _count_chat(self, user_id: str) -> None:
        now = self._clock()
        recent = self._chats.setdefault(user_id, deque())
        while recent and recent[0] <= now - MINUTE_S:
            recent.popleft()
        if len(recent) >= self._limits.chats_per_minute:
            raise WireError(RATE_LIMITED, f"at most {self._limits.chats_per_minute} chats a "
                            "minute (limits.chats_per_minute)")
        recent.append(now)

    async def _run(self, ctx: UserExecutionContext, message: str) -> None:
        extra = {"run_id": ctx.run_id, "user_id": ctx.user_id}
        try:
            async with self._scope_factory(ctx) as scope:
                try:
                    await scope.run(message)
                finally:
                    self._finished(ctx)  # before the scope closes: the client may chat again
        except asyncio.CancelledError:
            log.info("run cancelled", extra=extra)
            raise
        except Exception:
            log.exception("run failed", extra=extra)

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
        self._forget_at[(ctx.user_id, ctx.request_id)] = self._clock() + self._limits.retention_s

    def _forget_expired(self) -> None:
        now = self._clock()
        while self._forget_at:
            key, when = next(iter(self._forget_at.items()))
            if when > now:
                break
            self._forget_at.popitem(last=False)
            self._requests.pop(key, None)
        for user_id in [u for u, times in self._chats.items()
                        if not times or times[-1] <= now - MINUTE_S]:
            del self._chats[user_id]
