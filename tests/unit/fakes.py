"""Small in-memory fakes of the ports, for unit tests of the services."""

from __future__ import annotations

from toolwire.services.context import UserExecutionContext
from toolwire.services.events import EventPayload, RunEvent


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
