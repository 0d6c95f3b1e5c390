"""`McpServers`: the app's MCP connections and the tools they offer, connected at start-up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mcp import types

from toolwire.adapters.mcp.connection import McpConnection
from toolwire.adapters.mcp.errors import McpUnavailableError, describe_failure
from toolwire.adapters.mcp.results import tool_result
from toolwire.adapters.mcp.specs import mcp_tool_specs
from toolwire.config import ToolsSettings
from toolwire.services.tools.spec import ToolSpec

log = logging.getLogger(__name__)


class McpServers:
    """Open connections by server name, and the tools they offer to the registry."""

    __slots__ = ("connections", "specs")

    def __init__(self, connections: Sequence[McpConnection], specs: Sequence[ToolSpec]) -> None:
        self.connections = {connection.name: connection for connection in connections}
        self.specs = tuple(specs)

    async def aclose(self) -> None:
        """Close every connection (stdio servers are terminated)."""
        await asyncio.gather(*(c.aclose() for c in self.connections.values()))


async def connect_servers(settings: ToolsSettings) -> McpServers:
    """Connect to every server in `tools.mcp_servers` at once and list their tools.

    A server that cannot be reached fails start-up (`tools.mcp_on_unavailable=error`) or is
    left out with a warning (`warn`).
    """
    connections = [
        McpConnection(server, connect_timeout_s=settings.mcp_connect_timeout_s)
        for server in settings.mcp_servers
    ]
    results = await asyncio.gather(*map(_tools_of, connections), return_exceptions=True)
    failed = [(c, r) for c, r in zip(connections, results, strict=True)
              if isinstance(r, BaseException)]
    await asyncio.gather(*(connection.aclose() for connection, _ in failed))
    live = [c for c, r in zip(connections, results, strict=True)
            if not isinstance(r, BaseException)]
    for _, error in failed:
        if not isinstance(error, McpUnavailableError):  # cancelled while connecting
            await asyncio.gather(*(connection.aclose() for connection in live))
            raise error
    if failed and settings.mcp_on_unavailable == "error":
        await asyncio.gather(*(connection.aclose() for connection in live))
        raise failed[0][1]
    for _, error in failed:
        log.warning("%s; starting without its tools (tools.mcp_on_unavailable=warn)", error)
    specs = [
        spec
        for connection, tools in zip(connections, results, strict=True)
        if not isinstance(tools, BaseException)
        for spec in mcp_tool_specs(connection.server, tools, _caller(connection))
    ]
    return McpServers(live, specs)


async def _tools_of(connection: McpConnection) -> list[types.Tool]:
    """List the server's tools; any failure becomes `McpUnavailableError` naming the server."""
    try:
        return await connection.list_tools()
    except McpUnavailableError:
        raise
    except Exception as exc:
        raise McpUnavailableError(
            f"MCP server {connection.name!r} ({connection.server.describe()}) is unavailable: "
            f"{describe_failure(exc)}") from None


def _caller(connection: McpConnection) -> Callable[[str, dict[str, Any]], Awaitable[Any]]:
    async def call(remote_name: str, arguments: dict[str, Any]) -> Any:
        return tool_result(await connection.call(remote_name, arguments))

    return call
