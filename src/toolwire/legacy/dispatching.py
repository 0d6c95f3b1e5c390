"""`LegacyDispatcher`: a legacy tool dispatcher backed by its scope's container-built one."""

from __future__ import annotations

from typing import Any, Final

from toolwire.legacy.calling import ToolCaller
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.tools.calls import ToolOutcome

DISPATCHER_REPLACEMENT: Final = (
    "`async with container.request_scope(ctx) as scope:` and `scope.dispatcher`"
)


class LegacyDispatcher(ToolCaller):
    """Runs tool calls through `scope.dispatcher`, so `runs.max_tool_calls` applies."""

    __slots__ = ()

    @property
    def dispatcher(self) -> ToolDispatcher:
        """Return the container-built dispatcher of this scope."""
        return self._scope.dispatcher

    async def _call(self, tool_name: str, args: dict[str, Any]) -> ToolOutcome:
        return await self._scope.dispatcher.dispatch(tool_name, args)
