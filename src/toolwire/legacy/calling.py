"""`ToolCaller`: the tool surface legacy dispatchers and executors share."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from toolwire.legacy.scoped import ScopeOwner
from toolwire.services.tools.calls import ToolOutcome


class ToolCaller(ScopeOwner):
    """A legacy object that lists and runs the tools of its scope."""

    __slots__ = ()

    @property
    def available_tools(self) -> list[str]:
        """Return the names of the tools this scope may call (app-wide plus its own)."""
        return self._scope.executor.registry.names()

    def has_tool(self, tool_name: str) -> bool:
        """Return True when this scope may call `tool_name`."""
        return tool_name in self._scope.executor.registry

    async def execute_tool(
        self, tool_name: str, parameters: Mapping[str, Any] | None = None
    ) -> ToolOutcome:
        """Run one tool call; `tool_executing`/`tool_completed` go to the scope's user."""
        return await self._call(tool_name, dict(parameters or {}))

    @abstractmethod
    async def _call(self, tool_name: str, args: dict[str, Any]) -> ToolOutcome:
        """Run the call through the scope's dispatcher or executor."""
