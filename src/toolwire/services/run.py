"""Run orchestration: `agent_started` first, exactly one `agent_completed` last, always."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.errors import (
    LimitExceededError,
    PublishFailedError,
    RunTakenOverError,
)
from toolwire.services.events import (
    AgentCompleted,
    AgentStarted,
    AgentThinking,
    ErrorInfo,
    ToolCompleted,
)
from toolwire.services.ports import Agent, EventSink
from toolwire.services.threads.models import Turn
from toolwire.services.tools.spec import ToolSpec

log = logging.getLogger(__name__)

EndHook = Callable[[AgentCompleted], Awaitable[None]]
"""Sees a run's final event just before it is published."""


class RunRuntime:
    """The `AgentRuntime` of one run: thoughts go to the sink, tool calls to the dispatcher,
    and `history` holds the thread's earlier turns."""

    __slots__ = ("_dispatcher", "_history", "_sink", "_step")

    def __init__(
        self, dispatcher: ToolDispatcher, sink: EventSink, history: Sequence[Turn] = ()
    ) -> None:
        self._dispatcher = dispatcher
        self._sink = sink
        self._history = history
        self._step = 0

    @property
    def history(self) -> Sequence[Turn]:
        """Return the thread's earlier turns, oldest first."""
        return self._history

    async def think(self, text: str) -> None:
        """Emit an `agent_thinking` event with the next step number."""
        self._step += 1
        await self._sink.emit(AgentThinking(text, self._step))

    async def call_tool(self, tool: str, args: dict[str, Any]) -> ToolCompleted:
        """Run one tool call through the dispatcher."""
        return await self._dispatcher.dispatch(tool, args)

    def tools(self) -> Sequence[ToolSpec]:
        """Return the tools this run may call."""
        return self._dispatcher.tools()

    def may_call(self, tool: str) -> bool:
        """Return False when the run's user lacks a scope that `tool` needs."""
        return self._dispatcher.may_call(tool)


async def run_agent(
    *,
    user_context: UserExecutionContext,
    message: str,
    agent: Agent,
    dispatcher: ToolDispatcher,
    sink: EventSink,
    max_duration_s: float,
    history: Sequence[Turn] = (),
    before_end: EndHook | None = None,
) -> AgentCompleted:
    """Run `agent` on `message` and return the final event it emitted.

    `history` is what the agent sees of its thread's earlier turns (`runtime.history`);
    `before_end` sees the final event just before it is published (a client that sees the
    run end finds its turn stored).

    Cancellation is re-raised after `agent_completed` (status `cancelled`) is emitted. When
    not even `agent_started` can be published, the error propagates and nothing is emitted.
    """
    started = time.perf_counter()
    log_extra = {"run_id": user_context.run_id, "user_id": user_context.user_id,
                 "request_id": user_context.request_id}
    if log.isEnabledFor(logging.DEBUG):  # a line per run is for debugging, not production
        log.debug("run started (agent %s, from %s)", agent.name,
                  ", ".join(user_context.connection_ids) or "in-process", extra=log_extra)
    try:
        # A sink that raises CancelledError has still published the event (the bridge
        # finishes an interrupted publish), so the run must end properly.
        await sink.emit(AgentStarted(agent.name, message, user_context.request_id))
    except asyncio.CancelledError:
        await _emit_cancelled(sink, started, log_extra, before_end)
        raise
    runtime = RunRuntime(dispatcher, sink, history)
    final: AgentCompleted
    try:
        async with asyncio.timeout(max_duration_s) as deadline:
            answer = await agent.run(message, runtime)
        final = AgentCompleted("ok", _ms(started), answer=answer)
    except asyncio.CancelledError:
        await _emit_cancelled(sink, started, log_extra, before_end)
        raise
    except RunTakenOverError:
        log.warning("run ended by another instance after this one lost its lease",
                    extra=log_extra)
        raise
    except LimitExceededError as exc:
        final = AgentCompleted("error", _ms(started), error=ErrorInfo("limit_exceeded", str(exc)))
    except PublishFailedError as exc:
        log.error("run could not publish: %s", exc, exc_info=exc.__cause__, extra=log_extra)
        final = AgentCompleted("error", _ms(started), error=ErrorInfo(
            "unavailable", "the event bus was unavailable too long; the run could not go on"))
    except TimeoutError as exc:
        if not deadline.expired():  # the agent's own timeout, not the run's limit
            final = _agent_failed(started, exc, log_extra, what="the agent timed out on its own")
        else:
            final = AgentCompleted("error", _ms(started), error=ErrorInfo(
                "limit_exceeded",
                f"the run took longer than {max_duration_s:g} s (runs.max_duration_s)",
            ))
    except Exception as exc:
        final = _agent_failed(started, exc, log_extra)
    log.log(logging.DEBUG if final.status == "ok" else logging.INFO, "run ended: %s in %.1f ms",
            final.status, final.duration_ms, extra=log_extra)
    await _end(sink, final, before_end, log_extra)
    return final


async def _emit_cancelled(
    sink: EventSink, started: float, log_extra: dict[str, str], before_end: EndHook | None
) -> None:
    log.info("run cancelled", extra=log_extra)
    cancelled = ErrorInfo("cancelled", "the run was cancelled")
    await _end(sink, AgentCompleted("cancelled", _ms(started), error=cancelled), before_end,
               log_extra)


async def _end(sink: EventSink, final: AgentCompleted, before_end: EndHook | None,
               log_extra: dict[str, str]) -> None:
    """Let `before_end` see `final` (its failure is logged, never the run's), then emit it."""
    if before_end is not None:
        try:
            await before_end(final)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("recording the run's end failed", extra=log_extra)
    await sink.emit(final)


def _agent_failed(
    started: float, exc: BaseException, log_extra: dict[str, str],
    what: str = "the agent failed",
) -> AgentCompleted:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if getattr(exc, "log_traceback", True) is False:  # an expected condition, not a bug
        log.error("agent failed: %s", detail[:300], extra=log_extra)
    else:
        log.error("agent failed", exc_info=exc, extra=log_extra)  # with its traceback
    return AgentCompleted("error", _ms(started), error=ErrorInfo(
        "agent_error", f"{what} ({detail[:300]})"))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
