"""`AgentRunner`: runs the container's agent in a request scope and counts the run."""

from __future__ import annotations

import asyncio
from typing import Protocol

from toolwire.adapters.metrics import Metrics
from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.events import AgentCompleted
from toolwire.services.ports import Agent, EventSink
from toolwire.services.run import run_agent


class OpenScope(Protocol):
    """What a run needs of its scope."""

    user_context: UserExecutionContext
    dispatcher: ToolDispatcher
    bridge: EventSink


class AgentRunner:
    """Runs one run's agent within `max_duration_s`, with the run metrics."""

    __slots__ = ("_agent", "_max_duration_s", "_metrics")

    def __init__(self, *, agent: Agent, metrics: Metrics, max_duration_s: float) -> None:
        self._agent = agent
        self._metrics = metrics
        self._max_duration_s = max_duration_s

    async def run(self, scope: OpenScope, message: str) -> AgentCompleted:
        """Run the agent on `message` with the scope's dispatcher and bridge."""
        self._metrics.run_started()
        status = "error"  # what a run that raised counts as
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
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        finally:
            self._metrics.run_ended(status)
        return final
