"""Domain errors the services raise; adapters map them to wire errors."""

from __future__ import annotations


class ToolwireError(Exception):
    """Base of every error toolwire raises on purpose."""


class ToolError(ToolwireError):
    """A tool failed in a way it can explain; `message` is shown to the user."""

    error_type = "tool_error"


class LimitExceededError(ToolwireError):
    """A run passed one of its limits (`runs.max_tool_calls`, `runs.max_duration_s`)."""


class ToolConflictError(ToolwireError):
    """Two tools were registered under one name."""


class ScopeClosedError(ToolwireError):
    """A request-scoped object was used after its scope closed."""


class ToolLoadError(ToolwireError):
    """A module or entry point named in the settings could not provide its tools."""


class PublishFailedError(ToolwireError):
    """A run event could not be published (the event bus is down or refused it).

    Its message never names infrastructure; the bus's own error is its `__cause__`.
    """


class RunTakenOverError(ToolwireError):
    """This instance no longer owns the run: its lease lapsed and another instance ended it."""


class UnavailableError(ToolwireError):
    """A dependency (the event bus) is down or the server is shutting down: retry later."""
