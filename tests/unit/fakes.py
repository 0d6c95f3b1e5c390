"""Small in-memory fakes of the ports, for unit tests of the services."""

from __future__ import annotations

import asyncio

from toolwire.services.context import UserExecutionContext
from toolwire.services.events import EventPayload, RunEvent
from toolwire.services.tools.spec import ToolSpec, tool


class ListSink:
    """An `EventSink` that stamps events like the bridge and keeps them in a list."""

    def __init__(self, user_context: UserExecutionContext | None = None) -> None:
        self.ctx = user_context or UserExecutionContext.for_user("unit")
        self.events: list[RunEvent] = []
        self.closed = False

    async def emit(self, payload: EventPayload) -> RunEvent:
        event = RunEvent.stamp(payload, run_id=self.ctx.run_id, thread_id=self.ctx.thread_id,
                               seq=len(self.events) + 1)
        self.events.append(event)
        return event

    async def aclose(self) -> None:
        self.closed = True

    def types(self) -> list[str]:
        return [e.type for e in self.events]


def waiting_tool(entered: asyncio.Event) -> ToolSpec:
    """Return a tool `wait` that sets `entered`, then waits until it is cancelled."""

    @tool(name="wait", description="Wait until cancelled.")
    async def wait() -> None:
        entered.set()
        await asyncio.Event().wait()

    return wait
