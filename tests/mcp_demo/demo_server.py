"""A small MCP server for the tests, built with the `mcp` SDK (run as a script, not imported).

`python demo_server.py` serves over stdio; `python demo_server.py --port N` serves streamable
HTTP on 127.0.0.1:N at /mcp. `DEMO_WITH_ECHO=1` adds a tool named `echo` (a clash with the
built-in). `DEMO_CANCEL_LOG=path` makes `wait` append "cancelled" to that file when cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from mcp.server.fastmcp import Context, FastMCP

logging.disable(logging.INFO)  # keep the SDK's per-request lines out of the test output

port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 8000
server = FastMCP("demo", host="127.0.0.1", port=port, log_level="WARNING")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def shout(text: str) -> str:
    """Return the text in capitals."""
    return text.upper()


@server.tool()
def whoami() -> str:
    """Return the process id of this server (it changes when the server restarts)."""
    return str(os.getpid())


@server.tool()
def secret_env(name: str) -> str:
    """Return an environment variable of the server, or "-" when it is not set."""
    return os.environ.get(name, "-")


@server.tool()
def header(name: str, ctx: Context) -> str:  # type: ignore[type-arg]
    """Return a header of the HTTP request that carried this call, or "-" (stdio: always)."""
    request = ctx.request_context.request
    headers = getattr(request, "headers", None)
    return str(headers.get(name, "-")) if headers is not None else "-"


@server.tool()
def fail(reason: str) -> str:
    """Always fail with `reason`."""
    raise ValueError(reason)


@server.tool()
async def wait(seconds: float) -> str:
    """Sleep `seconds`, then say so."""
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        _note_cancelled()
        raise
    return f"waited {seconds:g} s"


def _note_cancelled() -> None:
    log_path = os.environ.get("DEMO_CANCEL_LOG")
    if log_path:
        Path(log_path).write_text("cancelled\n", encoding="utf-8")


if os.environ.get("DEMO_WITH_ECHO"):

    @server.tool(name="echo")
    def echo_tool(text: str) -> str:
        """Echo the text (named like toolwire's built-in)."""
        return text


if __name__ == "__main__":
    server.run("streamable-http" if "--port" in sys.argv else "stdio")
