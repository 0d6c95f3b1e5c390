"""`AgentRunner`: runs the container's agent in a request scope, counted and traced."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from toolwire.adapters.metrics import Metrics
from toolwire.adapters.tracing import Tracing
from toolwire.container.observed import ObservedSink, RecordingSink
from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.events import AgentCompleted
from toolwire.services.executor import ToolExecutor
from toolwire.services.ports import Agent, EventSink, ThreadStore
from toolwire.services.run import run_agent
from toolwire.services.threads.history import HistoryBounds, bound_history, history_size
from toolwire.services.threads.models import Turn
from toolwire.services.threads.recorder import TurnRecorder

log = logging.getLogger(__name__)

TRACING_OFF = Tracing()


class OpenScope(Protocol):
    """What a run needs of its scope."""

    user_context: UserExecutionContext
    dispatcher: ToolDispatcher
    executor: ToolExecutor
    bridge: EventSink


class AgentRunner:
    """Runs one run's agent within `max_duration_s`, with the run's metrics and trace and the
    history of its thread (read from `threads`, within `bounds`).

    For the run, the scope's executor reports through an `ObservedSink`, which times each
    tool call and traces it as a child of the run.
    """

    __slots__ = ("_agent", "_bounds", "_hold_s", "_max_duration_s", "_metrics", "_recorder",
                 "_threads", "_tracing")

    def __init__(
        self, *, agent: Agent, metrics: Metrics, max_duration_s: float,
        threads: ThreadStore, bounds: HistoryBounds, hold_s: float,
        recorder: Callable[..., TurnRecorder], tracing: Tracing = TRACING_OFF,
    ) -> None:
        self._agent = agent
        self._metrics = metrics
        self._max_duration_s = max_duration_s
        self._tracing = tracing
        self._threads = threads
        self._recorder = recorder
        self._bounds = bounds
        self._hold_s = hold_s

    async def run(
        self, scope: OpenScope, message: str, history: Sequence[Turn] | None = None, *,
        thread_held: bool = False,
    ) -> AgentCompleted:
        """Run the agent on `message` with the scope's dispatcher and bridge.

        The agent sees `history` (bounded like a stored thread) when given, else the
        stored thread of the scope's `thread_id`. The run claims its thread first unless
        `thread_held` says it holds it already (the server's supervisor claimed it).
        """
        ctx = scope.user_context
        if not thread_held:
            await self._claim(ctx, message)
        seen: Sequence[Turn]
        if history is None:
            seen = await self._stored_history(ctx)
        else:
            seen = bound_history(history, self._bounds)
        recorder = self._recorder(user_context=ctx)
        self._metrics.run_started()
        started = time.perf_counter()
        trace = self._tracing.run(scope.user_context, self._agent.name)
        executor = scope.executor
        if isinstance(executor, ToolExecutor):  # an override of another kind is left alone
            executor.sink = ObservedSink(
                RecordingSink(executor.sink, recorder), trace, self._metrics)
        status, error = "error", "the run raised"  # what a run that raised counts as
        self._metrics.history_seen(history_size(seen))
        try:
            final = await run_agent(
                user_context=ctx,
                message=message,
                agent=self._agent,
                dispatcher=scope.dispatcher,
                sink=RecordingSink(scope.bridge, recorder),
                max_duration_s=self._max_duration_s,
                history=seen,
                before_end=recorder.finish,
            )
            status = final.status
            error = final.error.message if final.error is not None else ""
        except asyncio.CancelledError:
            status, error = "cancelled", "the run was cancelled"
            raise
        finally:
            self._metrics.run_ended(status, time.perf_counter() - started)
            trace.ended(status, error or None)
        return final

    async def _claim(self, ctx: UserExecutionContext, message: str) -> None:
        """Make this run the thread's (creating it); the server's supervisor did already."""
        extra = {"run_id": ctx.run_id, "user_id": ctx.user_id}
        try:
            holder = await self._threads.claim(ctx.user_id, ctx.thread_id, ctx.run_id,
                                               message=message, hold_s=self._hold_s)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("claiming the thread failed; its turn may not be kept", extra=extra)
            return
        if holder is not None:
            log.warning("run %s still holds this thread", holder, extra=extra)

    async def _stored_history(self, ctx: UserExecutionContext) -> Sequence[Turn]:
        """Return the thread's bounded history; a store that fails gives none (logged)."""
        bounds = self._bounds
        try:
            return await self._threads.history(
                ctx.user_id, ctx.thread_id, max_turns=bounds.max_turns,
                max_bytes=bounds.max_bytes)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reading the thread's history failed; the agent sees none",
                          extra={"run_id": ctx.run_id, "user_id": ctx.user_id})
            return ()
