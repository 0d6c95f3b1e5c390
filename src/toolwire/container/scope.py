"""`RequestScope`: one run's dispatcher, executor and bridge, opened and closed together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Self

from toolwire.container.graph import RequestGraph
from toolwire.container.runner import AgentRunner
from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import ScopeClosedError
from toolwire.services.events import AgentCompleted
from toolwire.services.ports import EventObserver
from toolwire.services.threads.models import Turn
from toolwire.services.tools.spec import ToolSpec

log = logging.getLogger(__name__)


class RequestScope:
    """Async context manager that owns the request-scoped objects of one user context.

    The container's request graph builds them with the scope (so every override applies) and
    the scope closes them on exit, each even if another fails, also when the body raised or
    was cancelled. `tools` are added for this scope only; `observers` see every event it
    publishes (the legacy emitters use this), and so does the `recorder` the container
    makes for the scope (it writes the run's turn to its thread).
    """

    __slots__ = ("_runner", "_state", "bridge", "dispatcher", "executor", "user_context")

    def __init__(
        self,
        user_context: UserExecutionContext,
        *,
        graph: RequestGraph,
        runner: AgentRunner,
        tools: Sequence[ToolSpec] = (),
        observers: Sequence[EventObserver] = (),
        recorder: Callable[..., EventObserver] | None = None,
    ) -> None:
        if type(user_context) is not UserExecutionContext:
            raise TypeError(
                f"a request scope needs a UserExecutionContext, got {type(user_context).__name__}"
            )
        self.user_context = user_context
        self._runner = runner
        if recorder is not None:
            observers = (*observers, recorder(user_context=user_context))
        self.bridge, self.executor, self.dispatcher = graph.build(
            user_context, tools=tools, observers=observers)
        self._state = "new"

    @property
    def state(self) -> str:
        """Return `new`, `open` or `closed`."""
        return self._state

    def open(self) -> Self:
        """Enter the scope (`async with` calls it); a scope can be entered once."""
        if self._state != "new":
            raise ScopeClosedError("a request scope can be entered only once")
        self._state = "open"
        return self

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise ScopeClosedError("a request scope can be entered only once")
        self._state = "open"
        return self

    async def aclose(self, *_exc_info: object) -> None:
        """Close dispatcher, executor (cancelling its tasks) and bridge, in that order."""
        if self._state != "open":
            self._state = "closed"
            return
        self._state = "closed"
        for owned in (self.dispatcher, self.executor, self.bridge):
            try:
                await owned.aclose()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("closing the %s failed", type(owned).__name__,
                              extra={"run_id": self.user_context.run_id,
                                     "user_id": self.user_context.user_id})

    __aexit__ = aclose  # `async with` closes the scope however its body ended

    async def run(self, message: str, history: Sequence[Turn] | None = None) -> AgentCompleted:
        """Run the container's agent on `message` inside this scope.

        The agent sees `history` when given (an AG-UI client's own), else the stored thread.
        """
        if self._state != "open":
            raise ScopeClosedError("enter the request scope before running in it")
        return await self._runner.run(self, message, history)
