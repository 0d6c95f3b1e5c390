"""Errors of MCP servers; their messages reach users and logs, so they name no secret."""

from __future__ import annotations

from toolwire.redaction import redact_urls
from toolwire.services.errors import ToolError


class McpUnavailableError(ToolError):
    """An MCP server could not be started, reached or initialised (at start-up or later)."""

    error_type = "mcp_unavailable"


class McpCallError(ToolError):
    """An MCP server refused or lost a tool call (a protocol error, not the tool's own)."""

    error_type = "mcp_error"


def describe_failure(exc: BaseException) -> str:
    """Return `Type: message` of the first real error inside (possibly nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = " ".join(redact_urls(str(exc)).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__
