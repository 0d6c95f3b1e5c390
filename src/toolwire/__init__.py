"""toolwire: a backend runtime for AI-agent chat, wired by one dependency-injection container.

What this module exports is the public API (listed and documented in docs/api.md);
everything else is internal and may change without notice.
"""

from importlib.metadata import PackageNotFoundError, version

from toolwire.config import Settings
from toolwire.container import ApplicationContainer, RequestScope, create_app, create_container
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
from toolwire.services.ports import Agent, AgentRuntime
from toolwire.services.tools.calls import ToolOutcome
from toolwire.services.tools.spec import ToolSpec, tool

try:
    __version__ = version("toolwire")
except PackageNotFoundError:  # pragma: no cover - running from a source tree, not installed
    __version__ = "0+unknown"

__all__ = [
    "Agent",
    "AgentCompleted",
    "AgentRuntime",
    "AgentStarted",
    "AgentThinking",
    "ApplicationContainer",
    "ErrorInfo",
    "RequestScope",
    "RunEvent",
    "Settings",
    "ToolCompleted",
    "ToolError",
    "ToolExecuting",
    "ToolOutcome",
    "ToolSpec",
    "ToolwireError",
    "UserExecutionContext",
    "__version__",
    "create_app",
    "create_container",
    "tool",
]
