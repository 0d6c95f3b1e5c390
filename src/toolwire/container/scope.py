"""`RequestScope`: one run's dispatcher, executor and bridge, built and closed together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self

from toolwire.adapters.metrics import Metrics
from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.errors import ScopeClosedError
from toolwire.services.events import AgentCompleted, EventPayload, RunEvent
from toolwire.services.executor import ToolExecutor
from toolwire.services.ports import Agent, EventSink
from toolwire.services.run import run_agent
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import ToolSpec

log = logging.getLogger(__name__)

EventObserver = Callable[[RunEvent], Awaitable[None]]
"""Sees each event of a scope after the bridge stamped and published it."""


class ForwardingSink:
    """The scope's bridge, plus observers that get every stamped event after it is published.

    An observer that fails is logged and skipped: the event already reached the bus.
    """

    __slots__ = ("_observers", "bridge")

    def __init__(self, bridge: EventSink, observers: Sequence[EventObserver]) -> None:
        self.bridge = bridge
        self._observers = tuple(observers)

    async def emit(self, payload: EventPayload) -> RunEvent:
        """Publish through the bridge, then hand the stamped event to each observer."""
        event = await self.bridge.emit(payload)
        for observer in self._observers:
            try:
                await observer(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("an event observer of run %s failed", event.run_id)
        return event

    async def aclose(self) -> None:
        """Close the bridge."""
        await self.bridge.aclose()


class RequestScope:
    """Async context manager that owns the request-scoped objects of one user context.

    The container's providers build every object, so an override applies here too. `tools`
    are added for this scope only (the executor gets an overlay of the app registry);
    `observers` see every event the scope publishes (legacy emitters use this).
    """

    __slots__ = ("_agent_factory", "_bridge_factory", "_dispatcher_factory",
                 "_executor_factory", "_max_duration_s", "_metrics", "_observers",
                 "_registry_factory",
                 "_state", "_tools", "bridge", "dispatcher", "executor", "sink", "user_context")

    def __init__(
        self,
        user_context: UserExecutionContext,
        *,
        bridge_factory: Callable[..., EventSink],
        executor_factory: Callable[..., ToolExecutor],
        dispatcher_factory: Callable[..., ToolDispatcher],
        agent_factory: Callable[[], Agent],
        registry_factory: Callable[[], ToolRegistry],
        max_duration_s: float,
        tools: Sequence[ToolSpec] = (),
        observers: Sequence[EventObserver] = (),
        metrics: Metrics | None = None,
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
        self._registry_factory = registry_factory
        self._max_duration_s = max_duration_s
        self._tools = tuple(tools)
        self._observers = tuple(observers)
        self._metrics = metrics
        self._state = "new"

    @property
    def state(self) -> str:
        """Return `new`, `open` or `closed`."""
        return self._state

    def open(self) -> Self:
        """Build bridge, executor and dispatcher for this scope's user (`async with` calls it)."""
        if self._state != "new":
            raise ScopeClosedError("a request scope can be entered only once")
        ctx = self.user_context
        self.bridge = self._bridge_factory(user_context=ctx)
        self.sink = ForwardingSink(self.bridge, self._observers) if self._observers else self.bridge
        extra: dict[str, Any] = {}
        if self._tools:
            extra["registry"] = self._registry_factory().overlay(self._tools)
        self.executor = self._executor_factory(user_context=ctx, sink=self.sink, **extra)
        self.dispatcher = self._dispatcher_factory(user_context=ctx, executor=self.executor)
        self._state = "open"
        return self

    async def __aenter__(self) -> Self:
        return self.open()

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
        for name in ("dispatcher", "executor", "bridge"):
            closer: Any = getattr(getattr(self, name), "aclose", None)
            if closer is None:
                continue
            try:
                await closer()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("closing the %s of run %s failed", name, self.user_context.run_id)

    async def run(self, message: str) -> AgentCompleted:
        """Run the container's agent on `message` inside this scope."""
        if self._state != "open":
            raise ScopeClosedError("enter the request scope before running in it")
        metrics = self._metrics
        if metrics is not None:
            metrics.run_started()
        status = "error"  # what a run that raised counts as
        try:
            final = await run_agent(
                user_context=self.user_context,
                message=message,
                agent=self._agent_factory(),
                dispatcher=self.dispatcher,
                sink=self.sink,
                max_duration_s=self._max_duration_s,
            )
            status = final.status
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        finally:
            if metrics is not None:
                metrics.run_ended(status)
        return final
