"""`RequestScope`: one run's dispatcher, executor and bridge, opened and closed together."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Sequence
from typing import Final, Self

from toolwire.container.runner import AgentRunner
from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.errors import ScopeClosedError
from toolwire.services.events import AgentCompleted
from toolwire.services.executor import ToolExecutor
from toolwire.services.limits import ScopeSettings
from toolwire.services.ports import EventObserver, EventSink
from toolwire.services.threads.models import Turn
from toolwire.services.tools.spec import ToolSpec

log = logging.getLogger(__name__)


class ScopeState(enum.StrEnum):
    """Where a request scope is in its life: built, entered, closed (compares as its text)."""

    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


_NEW: Final = ScopeState.NEW  # module constants: an enum member lookup costs ~60 ns each
_OPEN: Final = ScopeState.OPEN
_CLOSED: Final = ScopeState.CLOSED


class RequestScope:
    """Async context manager that owns the request-scoped objects of one user context.

    The container's providers build them when the scope is created (the library resolves
    them, so every override applies), linked as declared: the executor reports to this
    scope's bridge, the dispatcher routes to this scope's executor. The scope closes them on
    exit, each even if another fails, also when the body raised or was cancelled. `tools`
    are added for this scope only; `observers` see every event it publishes (the legacy
    emitters use this). A run in the scope writes its turn to its thread (the runner does).
    """

    __slots__ = ("_runner", "_state", "bridge", "dispatcher", "executor", "user_context")

    def __init__(
        self,
        user_context: UserExecutionContext,
        *,
        settings: ScopeSettings,
        bridge: Callable[..., EventSink],
        executor: Callable[..., ToolExecutor],
        dispatcher: Callable[..., ToolDispatcher],
        runner: Callable[[], AgentRunner],
        tools: Sequence[ToolSpec] = (),
        observers: Sequence[EventObserver] = (),
    ) -> None:
        """Build the scope's objects for `user_context`, each with this scope's `settings`
        (one reading of the settings provider for the three)."""
        if type(user_context) is not UserExecutionContext:
            raise TypeError(
                f"a request scope needs a UserExecutionContext, got {type(user_context).__name__}"
            )
        self.user_context = user_context
        self._runner = runner
        if observers:
            self.bridge = bridge(user_context=user_context, settings=settings,
                                 observers=observers)
        else:
            self.bridge = bridge(user_context=user_context, settings=settings)
        if tools:
            self.executor = executor(user_context=user_context, sink=self.bridge,
                                     settings=settings, extra_tools=tools)
        else:
            self.executor = executor(user_context=user_context, sink=self.bridge,
                                     settings=settings)
        self.dispatcher = dispatcher(user_context=user_context, executor=self.executor,
                                     settings=settings)
        self._state = _NEW

    @property
    def state(self) -> ScopeState:
        """Return where the scope is in its life."""
        return self._state

    def open(self) -> Self:
        """Enter the scope (`async with` does it); a scope can be entered once."""
        if self._state is not _NEW:
            raise ScopeClosedError("a request scope can be entered only once")
        self._state = _OPEN
        return self

    async def __aenter__(self) -> Self:
        return self.open()

    async def aclose(self, *_exc_info: object) -> None:
        """Close dispatcher, executor (cancelling its tasks) and bridge, in that order."""
        was_open = self._state is _OPEN
        self._state = _CLOSED
        if not was_open:
            return
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

    async def run(self, message: str, history: Sequence[Turn] | None = None, *,
                  thread_held: bool = False) -> AgentCompleted:
        """Run the container's agent on `message` inside this scope.

        The agent sees `history` when given (an AG-UI client's own), else the stored thread.
        The run claims its thread first unless `thread_held` (its caller claimed it).
        """
        if self._state is not _OPEN:
            raise ScopeClosedError("enter the request scope before running in it")
        return await self._runner().run(self, message, history, thread_held=thread_held)
