"""`WebSocketBridge`: a scope's event sink; stamps run, thread, `seq` and `ts`, then publishes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import ScopeClosedError
from toolwire.services.events import EventPayload, RunEvent
from toolwire.services.ports import EventBus

log = logging.getLogger(__name__)

FIRST_RETRY_S: Final = 0.05
MAX_RETRY_S: Final = 2.0


def utc_now() -> datetime:
    """Return the current UTC time."""
    return datetime.now(UTC)


class WebSocketBridge:
    """Publishes one run's events to every socket of its user, numbered 1..n without gaps."""

    __slots__ = ("_bus", "_clock", "_closed", "_lock", "_retry_for_s", "_seq", "user_context")

    def __init__(
        self,
        *,
        user_context: UserExecutionContext,
        bus: EventBus,
        retry_for_s: float = 0.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.user_context = user_context
        self._bus = bus
        self._retry_for_s = retry_for_s
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
        """Stamp `payload` with the next `seq` and publish it.

        While the bus fails, the same event is retried with backoff for `retry_for_s`, so a
        run outlives a short outage with nothing lost; past that the error propagates and the
        failed event uses no sequence number.
        """
        async with self._lock:
            if self._closed:
                raise ScopeClosedError("this bridge's request scope is closed")
            ctx = self.user_context
            event = RunEvent.stamp(
                payload, run_id=ctx.run_id, thread_id=ctx.thread_id, seq=self._seq + 1,
                now=self._clock(),
            )
            try:
                await self._publish(event)
            except asyncio.CancelledError:
                # The publish may have reached the bus or not. Buses take a repeat of one
                # (run_id, seq) once, so finish it: the run's events stay 1..n without a gap.
                await self._publish(event)
                self._seq = event.seq
                raise
            self._seq = event.seq
            return event

    async def _publish(self, event: RunEvent) -> None:
        deadline = time.monotonic() + self._retry_for_s
        delay = FIRST_RETRY_S
        while True:
            try:
                await self._bus.publish(self.user_context.user_id, event)
                return
            except Exception as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("publishing seq %d failed (%s: %s); retrying in %.2f s", event.seq,
                            type(exc).__name__, exc, delay,
                            extra={"run_id": event.run_id, "user_id": self.user_context.user_id})
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_S)

    async def aclose(self) -> None:
        """Wait for an in-flight publish, then refuse further events."""
        async with self._lock:
            self._closed = True
