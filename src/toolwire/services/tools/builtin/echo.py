"""The `echo` tool."""

from __future__ import annotations

from pydantic import BaseModel, Field

from toolwire.services.tools.spec import tool


class EchoArgs(BaseModel, extra="forbid"):
    """Arguments of `echo`."""

    text: str = Field(max_length=100_000, description="Text to send back")


@tool(name="echo", description="Return the text it is given.")
async def echo(args: EchoArgs) -> str:
    """Return `text` unchanged."""
    return args.text
