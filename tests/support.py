"""Helpers shared by test modules: bounded polling, hand-made events, a run in a scope."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

from toolwire.container import ApplicationContainer
from toolwire.services.context import UserExecutionContext
from toolwire.services.events import AgentCompleted, EventType, RunEvent
from toolwire.testing import assert_well_formed


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


async def run_in_scope(container: ApplicationContainer, message: str, user: str = "alice",
                       scopes: frozenset[str] = frozenset(),
                       thread_id: str | None = None) -> tuple[AgentCompleted, list[RunEvent]]:
    """Run `message` for `user` (granted `scopes`, on `thread_id`, else a new thread) in a
    request scope; check it is well-formed; return its end and its events."""
    ctx = UserExecutionContext.for_user(user, thread_id=thread_id, scopes=scopes)
    events: list[RunEvent] = []
    subscription = await container.event_bus().subscribe(user, events.append)
    try:
        async with container.request_scope(ctx) as scope:
            final = await scope.run(message)
    finally:
        await subscription.close()
    assert_well_formed(events)
    return final, events


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
