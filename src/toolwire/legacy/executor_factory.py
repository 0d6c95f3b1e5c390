"""Legacy `ToolExecutorFactory().create_executor` and `create_request_scoped_executor`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from toolwire.legacy.calling import ToolCaller
from toolwire.legacy.policy import EntryPoint
from toolwire.legacy.scoped import UserContextLike, begin
from toolwire.services.executor import ToolExecutor
from toolwire.services.tools.calls import ToolCall, ToolOutcome
from toolwire.services.tools.spec import ToolSpec

EXECUTOR_REPLACEMENT: Final = (
    "`async with container.request_scope(ctx) as scope:` and `scope.executor`"
)
CREATE_EXECUTOR: Final = EntryPoint("ToolExecutorFactory.create_executor", EXECUTOR_REPLACEMENT)
CREATE_REQUEST_SCOPED_EXECUTOR: Final = EntryPoint("create_request_scoped_executor",
                                                   EXECUTOR_REPLACEMENT)


class RequestScopedToolExecutor(ToolCaller):
    """Deprecated: a tool executor for one request, backed by its scope's executor."""

    __slots__ = ()

    @property
    def executor(self) -> ToolExecutor:
        """Return the container-built executor of this scope."""
        return self._scope.executor

    async def _call(self, tool_name: str, args: dict[str, Any]) -> ToolOutcome:
        return await self._scope.executor.execute(ToolCall(tool_name, args))


class ToolExecutorFactory:
    """Deprecated: builds request-scoped tool executors."""

    __slots__ = ()

    async def create_executor(
        self, user_context: UserContextLike, websocket_emitter: object | None = None
    ) -> RequestScopedToolExecutor:
        """Deprecated: open a request scope for `user_context` and return its executor."""
        return RequestScopedToolExecutor._adopt(
            begin(CREATE_EXECUTOR, user_context, emitter=websocket_emitter)
        )


async def create_request_scoped_executor(
    user_context: UserContextLike,
    tools: Iterable[ToolSpec] | None = None,
    websocket_emitter: object | None = None,
) -> RequestScopedToolExecutor:
    """Deprecated: open a request scope for `user_context` and return its executor."""
    return RequestScopedToolExecutor._adopt(
        begin(CREATE_REQUEST_SCOPED_EXECUTOR, user_context, tools=tools,
              emitter=websocket_emitter)
    )
