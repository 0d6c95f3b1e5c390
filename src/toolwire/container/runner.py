"""`AgentRunner`: runs the container's agent in a request scope, counted and traced."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from toolwire.adapters.metrics import Metrics
from toolwire.adapters.tracing import Tracing
from toolwire.container.observed import ObservedSink
from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.events import AgentCompleted
from toolwire.services.executor import ToolExecutor
from toolwire.services.ports import Agent, EventSink
from toolwire.services.run import run_agent

TRACING_OFF = Tracing()


class OpenScope(Protocol):
    """What a run needs of its scope."""

    user_context: UserExecutionContext
    dispatcher: ToolDispatcher
    executor: ToolExecutor
    bridge: EventSink


class AgentRunner:
    """Runs one run's agent within `max_duration_s`, with the run's metrics and trace.

    For the run, the scope's executor reports through an `ObservedSink`, which times each
    tool call and traces it as a child of the run.
    """

    __slots__ = ("_agent", "_max_duration_s", "_metrics", "_tracing")

    def __init__(
        self, *, agent: Agent, metrics: Metrics, max_duration_s: float,
        tracing: Tracing = TRACING_OFF,
    ) -> None:
        self._agent = agent
        self._metrics = metrics
        self._max_duration_s = max_duration_s
        self._tracing = tracing

    async def run(self, scope: OpenScope, message: str) -> AgentCompleted:
        """Run the agent on `message` with the scope's dispatcher and bridge."""
        self._metrics.run_started()
        started = time.perf_counter()
        trace = self._tracing.run(scope.user_context, self._agent.name)
        executor = scope.executor
        if isinstance(executor, ToolExecutor):  # an override of another kind is left alone
            executor.sink = ObservedSink(executor.sink, trace, self._metrics)
        status, error = "error", "the run raised"  # what a run that raised counts as
        try:
            final = await run_agent(
                user_context=scope.user_context,
                message=message,
                agent=self._agent,
                dispatcher=scope.dispatcher,
                sink=scope.bridge,
                max_duration_s=self._max_duration_s,
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
