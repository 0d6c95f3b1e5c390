"""A small MCP server for the tests, built with the `mcp` SDK (run as a script, not imported).

`python demo_server.py` serves over stdio; `python demo_server.py --port N` serves streamable
HTTP on 127.0.0.1:N at /mcp. `DEMO_WITH_ECHO=1` adds a tool named `echo` (a clash with the
built-in). `DEMO_CANCEL_LOG=path` makes `wait` append "cancelled" to that file when cancelled.
Hostile tools for the hardening tests: `spell` has a pattern that backtracks exponentially in
Python's `re`, `block` freezes the whole server, `big` returns a large result, `complain`
writes an environment variable to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated

from mcp.server.fastmcp import Context, FastMCP
from pydantic import Field

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


@server.tool()
def spell(word: Annotated[str, Field(pattern=r"^(a|aa)+$")]) -> str:
    """Return the word (its schema's pattern backtracks exponentially in Python's `re`)."""
    return word


@server.tool()
def block(seconds: float) -> str:
    """Block the whole server `seconds` (a synchronous sleep on its event loop)."""
    time.sleep(seconds)
    return "unblocked"


@server.tool()
def big(size: int) -> str:
    """Return `size` characters."""
    return "x" * size


@server.tool()
def complain(name: str, times: int) -> str:
    """Write the environment variable `name` to stderr `times` times."""
    for _ in range(times):
        print(f"complaint: {name}={os.environ.get(name, '-')}", file=sys.stderr, flush=True)
    return "complained"


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
