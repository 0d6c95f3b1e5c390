"""The `sleep` tool (development and test only: `tools.sleep_enabled`)."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from toolwire.services.tools.spec import tool


class SleepArgs(BaseModel, extra="forbid"):
    """Arguments of `sleep`."""

    # strict: a JSON `true` is not a duration (lax validation would wait 1 s)
    seconds: float = Field(ge=0, le=3600, strict=True, description="How long to wait")


@tool(name="sleep", description="Wait for a number of seconds (for testing timeouts).")
async def sleep(args: SleepArgs) -> dict[str, float]:
    """Wait, then report how long."""
    await asyncio.sleep(args.seconds)
    return {"slept": args.seconds}
