"""Helpers shared by test modules: bounded polling and hand-made events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from toolwire.services.events import EventType, RunEvent


def event(run_id: str, seq: int, type_: EventType = "agent_thinking") -> RunEvent:
    """Return a stamped event of `run_id` with a fixed time and thinking-style data."""
    return RunEvent(
        type_, run_id, "t_1", seq, "2026-11-24T21:50:00.000000Z", {"text": f"s{seq}", "step": seq}
    )


async def eventually(check: Callable[[], Awaitable[bool] | bool], within: float = 10.0) -> None:
    """Poll `check` until it holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        outcome = check()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
