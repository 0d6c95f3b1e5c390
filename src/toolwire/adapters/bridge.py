"""`WebSocketBridge`: a scope's event sink; stamps run, thread, `seq` and `ts`, then publishes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import ScopeClosedError
from toolwire.services.events import EventPayload, RunEvent
from toolwire.services.ports import EventBus


def utc_now() -> datetime:
    """Return the current UTC time."""
    return datetime.now(UTC)


class WebSocketBridge:
    """Publishes one run's events to every socket of its user, numbered 1..n without gaps."""

    __slots__ = ("_bus", "_clock", "_closed", "_lock", "_seq", "user_context")

    def __init__(
        self,
        *,
        user_context: UserExecutionContext,
        bus: EventBus,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.user_context = user_context
        self._bus = bus
        self._clock = clock
        self._seq = 0
        self._closed = False
        self._lock = asyncio.Lock()

    @property
    def last_seq(self) -> int:
        """Return the `seq` of the last event published (0 before the first)."""
        return self._seq

    @property
    def closed(self) -> bool:
        """Return True once `aclose()` ran."""
        return self._closed

    async def emit(self, payload: EventPayload) -> RunEvent:
        """Stamp `payload` with the next `seq` and publish it; a failed publish uses no number."""
        async with self._lock:
            if self._closed:
                raise ScopeClosedError("this bridge's request scope is closed")
            ctx = self.user_context
            event = RunEvent.stamp(
                payload, run_id=ctx.run_id, thread_id=ctx.thread_id, seq=self._seq + 1,
                now=self._clock(),
            )
            await self._bus.publish(ctx.user_id, event)
            self._seq = event.seq
            return event

    async def aclose(self) -> None:
        """Wait for an in-flight publish, then refuse further events."""
        async with self._lock:
            self._closed = True
