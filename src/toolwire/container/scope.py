"""`RequestScope`: one run's dispatcher, executor and bridge, built and closed together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Self

from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.errors import ScopeClosedError
from toolwire.services.events import AgentCompleted
from toolwire.services.executor import ToolExecutor
from toolwire.services.ports import Agent, EventSink
from toolwire.services.run import run_agent

log = logging.getLogger(__name__)


class RequestScope:
    """Async context manager that owns the request-scoped objects of one user context.

    The container's providers build every object, so an override applies here too.
    """

    __slots__ = ("_agent_factory", "_bridge_factory", "_dispatcher_factory",
                 "_executor_factory", "_max_duration_s", "_state", "bridge", "dispatcher",
                 "executor", "user_context")

    def __init__(
        self,
        user_context: UserExecutionContext,
        *,
        bridge_factory: Callable[..., EventSink],
        executor_factory: Callable[..., ToolExecutor],
        dispatcher_factory: Callable[..., ToolDispatcher],
        agent_factory: Callable[[], Agent],
        max_duration_s: float,
    ) -> None:
        if not isinstance(user_context, UserExecutionContext):
            raise TypeError(
                f"a request scope needs a UserExecutionContext, got {type(user_context).__name__}"
            )
        self.user_context = user_context
        self._bridge_factory = bridge_factory
        self._executor_factory = executor_factory
        self._dispatcher_factory = dispatcher_factory
        self._agent_factory = agent_factory
        self._max_duration_s = max_duration_s
        self._state = "new"

    @property
    def state(self) -> str:
        """Return `new`, `open` or `closed`."""
        return self._state

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise ScopeClosedError("a request scope can be entered only once")
        ctx = self.user_context
        self.bridge = self._bridge_factory(user_context=ctx)
        self.executor = self._executor_factory(user_context=ctx, sink=self.bridge)
        self.dispatcher = self._dispatcher_factory(user_context=ctx, executor=self.executor)
        self._state = "open"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close dispatcher, executor (cancelling its tasks) and bridge, each even if one fails."""
        if self._state != "open":
            self._state = "closed"
            return
        self._state = "closed"
        cancelled = False
        for obj in (self.dispatcher, self.executor, self.bridge):
            closer = getattr(obj, "aclose", None)
            if closer is None:
                continue
            try:
                await closer()
            except asyncio.CancelledError:
                cancelled = True  # close the rest first, then let the cancellation through
            except Exception:
                log.exception("closing %s of run %s failed", type(obj).__name__,
                              self.user_context.run_id)
        if cancelled:
            raise asyncio.CancelledError

    async def run(self, message: str) -> AgentCompleted:
        """Run the container's agent on `message` inside this scope."""
        if self._state != "open":
            raise ScopeClosedError("enter the request scope before running in it")
        return await run_agent(
            user_context=self.user_context,
            message=message,
            agent=self._agent_factory(),
            dispatcher=self.dispatcher,
            sink=self.bridge,
            max_duration_s=self._max_duration_s,
        )
