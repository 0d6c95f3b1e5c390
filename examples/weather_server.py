"""A complete MCP server with one tool, as docs/models.md shows it (stdio transport)."""

from mcp.server.fastmcp import FastMCP

server = FastMCP("weather")


@server.tool()
def forecast(city: str, days: int = 1) -> str:
    """Forecast the weather of a city."""
    return f"{city}: sunny for {days} day(s)"


if __name__ == "__main__":
    server.run()  # stdio
