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


class RateLimitedError(ToolwireError):
    """A user passed one of their quotas; the message says which and when to retry."""


class UnavailableError(ToolwireError):
    """No run can start or be reached now (shutting down, or the event bus is down)."""


class RunNotFoundError(ToolwireError):
    """No such run of this user: unknown, expired, or another user's (never said which)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run {run_id!r} (unknown, expired, or not yours)")
        self.run_id = run_id


class ThreadBusyError(ToolwireError):
    """The thread has a run going, and `threads.on_busy` is `reject`."""

    def __init__(self, thread_id: str, run_id: str) -> None:
        super().__init__(
            f"thread {thread_id!r} has a run going ({run_id}): wait for it to end or cancel "
            "it (threads.on_busy is reject)")
        self.thread_id = thread_id
        self.run_id = run_id
