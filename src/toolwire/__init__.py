"""toolwire: a backend runtime for AI-agent chat, wired by one dependency-injection container.

What this module exports is the public API (listed and documented in docs/api.md);
everything else is internal and may change without notice.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from toolwire._version import __version__

if TYPE_CHECKING:
    from toolwire.adapters.web.access_log import PathOnlyAccessLogger
    from toolwire.config import Settings
    from toolwire.container import (
        ApplicationContainer,
        RequestScope,
        create_app,
        create_container,
    )
    from toolwire.services.context import UserExecutionContext
    from toolwire.services.errors import ToolError, ToolwireError
    from toolwire.services.events import (
        AgentCompleted,
        AgentStarted,
        AgentThinking,
        ErrorInfo,
        RunEvent,
        ToolCompleted,
        ToolExecuting,
    )
    from toolwire.services.executor import ToolExecutor
    from toolwire.services.ports import Agent, AgentRuntime
    from toolwire.services.threads.models import ToolCallRecord, Turn
    from toolwire.services.tools.calls import ToolOutcome
    from toolwire.services.tools.spec import ToolSpec, tool


# Where each public name lives; imported on first use so `toolwire check` and the other
# light commands do not pay for aiohttp, redis and the container at start-up.
_HOMES = {
    "Settings": "toolwire.config",
    "ApplicationContainer": "toolwire.container",
    "RequestScope": "toolwire.container",
    "create_app": "toolwire.container",
    "create_container": "toolwire.container",
    "UserExecutionContext": "toolwire.services.context",
    "ToolError": "toolwire.services.errors",
    "ToolwireError": "toolwire.services.errors",
    "ToolExecutor": "toolwire.services.executor",
    "AgentCompleted": "toolwire.services.events",
    "AgentStarted": "toolwire.services.events",
    "AgentThinking": "toolwire.services.events",
    "ErrorInfo": "toolwire.services.events",
    "RunEvent": "toolwire.services.events",
    "ToolCompleted": "toolwire.services.events",
    "ToolExecuting": "toolwire.services.events",
    "Agent": "toolwire.services.ports",
    "AgentRuntime": "toolwire.services.ports",
    "ToolOutcome": "toolwire.services.tools.calls",
    "Turn": "toolwire.services.threads.models",
    "ToolCallRecord": "toolwire.services.threads.models",
    "ToolSpec": "toolwire.services.tools.spec",
    "PathOnlyAccessLogger": "toolwire.adapters.web.access_log",
    "tool": "toolwire.services.tools.spec",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'toolwire' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Agent",
    "AgentCompleted",
    "AgentRuntime",
    "AgentStarted",
    "AgentThinking",
    "ApplicationContainer",
    "ErrorInfo",
    "PathOnlyAccessLogger",
    "RequestScope",
    "RunEvent",
    "Settings",
    "ToolCallRecord",
    "ToolCompleted",
    "ToolError",
    "ToolExecuting",
    "ToolExecutor",
    "ToolOutcome",
    "ToolSpec",
    "ToolwireError",
    "Turn",
    "UserExecutionContext",
    "__version__",
    "create_app",
    "create_container",
    "tool",
]
