"""`ToolDispatcher`: routes a run's tool calls to its executor and counts them."""

from __future__ import annotations

from typing import Any

from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import LimitExceededError, ScopeClosedError
from toolwire.services.events import ToolCompleted
from toolwire.services.executor import ToolExecutor
from toolwire.services.limits import ScopeSettings
from toolwire.services.tools.calls import ToolCall
from toolwire.services.tools.spec import ToolSpec


class ToolDispatcher:
    """The one way a run calls tools: in its own scope, at most `max_tool_calls` times."""

    __slots__ = ("_calls", "_closed", "executor", "max_tool_calls", "user_context")

    def __init__(
        self,
        *,
        user_context: UserExecutionContext,
        executor: ToolExecutor,
        max_tool_calls: int = 32,
        settings: ScopeSettings | None = None,
    ) -> None:
        """Build a dispatcher; `settings` (the container passes its own) supplies the limit."""
        if settings is not None:
            max_tool_calls = settings.runs.max_tool_calls
        self.user_context = user_context
        self.executor = executor
        self.max_tool_calls = max_tool_calls
        self._calls = 0
        self._closed = False

    @property
    def calls(self) -> int:
        """Return how many tool calls this dispatcher has routed."""
        return self._calls

    @property
    def closed(self) -> bool:
        """Return True once `aclose()` ran."""
        return self._closed

    def tools(self) -> list[ToolSpec]:
        """Return the tools this scope's user may call."""
        executor = self.executor
        return [spec for spec in executor.registry.specs() if executor.may_call(spec)]

    def may_call(self, tool: str) -> bool:
        """Return False when this scope's user lacks a scope that the tool `tool` needs.

        An unknown tool is not refused here: calling it reports `unknown_tool`.
        """
        spec = self.executor.registry.get(tool)
        return spec is None or self.executor.may_call(spec)

    async def dispatch(
        self, tool: str, args: dict[str, Any], *, call_id: str | None = None
    ) -> ToolCompleted:
        """Run one tool call; raise `LimitExceededError` past `max_tool_calls`."""
        if self._closed:
            raise ScopeClosedError("this dispatcher's request scope is closed")
        if self._calls >= self.max_tool_calls:
            raise LimitExceededError(
                f"the run made more than {self.max_tool_calls} tool calls (runs.max_tool_calls)"
            )
        self._calls += 1
        call = ToolCall(tool, args) if call_id is None else ToolCall(tool, args, call_id)
        return await self.executor.execute(call)

    async def aclose(self) -> None:
        """Refuse further calls."""
        self._closed = True
