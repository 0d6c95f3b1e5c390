"""Deprecated factory entry points: thin shims that resolve through the container.

Each call counts in `container.legacy_calls()`, warns (or raises, or stays silent, as
`legacy.mode` says) and returns an object that owns a request scope built by the current
container (`toolwire.container.get_container()`). See docs/migration.md.
"""

from toolwire.legacy.dispatcher_core import RequestScopedToolDispatcher, ToolDispatcher
from toolwire.legacy.executor_factory import (
    RequestScopedToolExecutor,
    ToolExecutorFactory,
    create_request_scoped_executor,
)
from toolwire.legacy.policy import RELEASE_DATE, LegacyEntryPointError, removal_date
from toolwire.legacy.unified_dispatcher import UnifiedToolDispatcher, UnifiedToolDispatcherFactory
from toolwire.legacy.websocket_bridge import WebSocketBridgeAdapter, create_agent_websocket_bridge

__all__ = [
    "RELEASE_DATE",
    "LegacyEntryPointError",
    "RequestScopedToolDispatcher",
    "RequestScopedToolExecutor",
    "ToolDispatcher",
    "ToolExecutorFactory",
    "UnifiedToolDispatcher",
    "UnifiedToolDispatcherFactory",
    "WebSocketBridgeAdapter",
    "create_agent_websocket_bridge",
    "create_request_scoped_executor",
    "removal_date",
]
