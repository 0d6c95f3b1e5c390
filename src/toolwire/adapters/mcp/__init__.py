"""Tools from MCP servers: client sessions (stdio or streamable HTTP) and their tool specs."""

from toolwire.adapters.mcp.connection import McpConnection
from toolwire.adapters.mcp.errors import McpCallError, McpUnavailableError
from toolwire.adapters.mcp.servers import McpServers, connect_servers
from toolwire.adapters.mcp.specs import McpToolSpec

__all__ = [
    "McpCallError",
    "McpConnection",
    "McpServers",
    "McpToolSpec",
    "McpUnavailableError",
    "connect_servers",
]
