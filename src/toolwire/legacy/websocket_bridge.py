"""Legacy `WebSocketBridgeAdapter(...)` and `create_agent_websocket_bridge(user_context)`."""

from __future__ import annotations

from typing import Any, Final

from toolwire.legacy.policy import EntryPoint
from toolwire.legacy.scoped import ScopeOwner, UserContextLike, begin
from toolwire.services.context import new_id
from toolwire.services.events import (
    AgentCompleted,
    AgentStarted,
    AgentThinking,
    ErrorInfo,
    EventPayload,
    RunEvent,
    ToolCompleted,
    ToolExecuting,
)
from toolwire.services.ports import EventSink

BRIDGE_REPLACEMENT: Final = (
    "`async with container.request_scope(ctx) as scope:` and `scope.bridge`"
)
ADAPTER: Final = EntryPoint("WebSocketBridgeAdapter", BRIDGE_REPLACEMENT)
CREATE_BRIDGE: Final = EntryPoint("create_agent_websocket_bridge", BRIDGE_REPLACEMENT)


class WebSocketBridgeAdapter(ScopeOwner):
    """Deprecated: the `notify_*` interface over a scope's container-built bridge.

    Each `notify_*` publishes one event of the scope's run to its user (and to the
    `websocket_emitter`, when one was given).
    """

    __slots__ = ("_pending", "_step")

    def __init__(self, websocket_emitter: object | None, user_context: UserContextLike) -> None:
        super().__init__(begin(ADAPTER, user_context, emitter=websocket_emitter))
        self._init_state()

    def _init_state(self) -> None:
        self._pending: dict[str, list[str]] = {}
        self._step = 0

    @property
    def bridge(self) -> EventSink:
        """Return the container-built bridge of this scope."""
        return self._scope.bridge

    async def _emit(self, payload: EventPayload) -> RunEvent:
        return await self._scope.bridge.emit(payload)

    async def notify_agent_started(self, message: str = "", agent_name: str = "legacy") -> None:
        """Publish `agent_started`."""
        await self._emit(AgentStarted(agent_name, message, self.user_context.request_id))

    async def notify_agent_thinking(self, text: str) -> None:
        """Publish `agent_thinking` with the next step number."""
        self._step += 1
        await self._emit(AgentThinking(text, self._step))

    async def notify_tool_executing(
        self, tool_name: str, parameters: dict[str, Any] | None = None
    ) -> str:
        """Publish `tool_executing` and return its call id."""
        call_id = new_id("c")
        self._pending.setdefault(tool_name, []).append(call_id)
        await self._emit(ToolExecuting(tool_name, call_id, dict(parameters or {})))
        return call_id

    async def notify_tool_completed(
        self,
        tool_name: str,
        result: Any = None,
        *,
        error: str | None = None,
        duration_ms: float = 0.0,
        call_id: str | None = None,
    ) -> None:
        """Publish `tool_completed` for `call_id` (default: the oldest open call of the tool)."""
        pending = self._pending.get(tool_name, [])
        if call_id is None:
            if not pending:
                raise ValueError(f"no notify_tool_executing is open for tool {tool_name!r}")
            call_id = pending[0]
        if call_id in pending:
            pending.remove(call_id)
        if error is None:
            payload = ToolCompleted(tool=tool_name, call_id=call_id, status="ok",
                                    duration_ms=duration_ms, result=result)
        else:
            payload = ToolCompleted(tool=tool_name, call_id=call_id, status="error",
                                    duration_ms=duration_ms,
                                    error=ErrorInfo("tool_error", error))
        await self._emit(payload)

    async def notify_agent_completed(
        self, answer: str | None = None, *, error: str | None = None, duration_ms: float = 0.0
    ) -> None:
        """Publish `agent_completed`: `ok` with `answer`, or `error` with the message."""
        if error is None:
            await self._emit(AgentCompleted("ok", duration_ms, answer=answer))
        else:
            await self._emit(AgentCompleted("error", duration_ms,
                                            error=ErrorInfo("agent_error", error)))


def create_agent_websocket_bridge(user_context: UserContextLike) -> WebSocketBridgeAdapter:
    """Deprecated: open a request scope for `user_context` and return its bridge."""
    adapter = WebSocketBridgeAdapter._adopt(begin(CREATE_BRIDGE, user_context))
    adapter._init_state()
    return adapter
