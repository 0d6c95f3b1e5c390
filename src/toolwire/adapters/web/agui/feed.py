"""`RunFeed`: the live events of one run for one AG-UI stream, bounded, never blocking the bus."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from toolwire.services.events import RunEvent


class SlowConsumerError(Exception):
    """More events waited than the stream may hold (`ws.send_queue`)."""


class FeedClosedError(Exception):
    """The server is shutting down and ends the stream."""


class RunFeed:
    """Keeps the bus's events of `run_id` until the stream's writer takes them."""

    __slots__ = ("_closed", "_events", "_max_queued", "_on_overflow", "_overflowed", "_wakeup",
                 "run_id")

    def __init__(self, *, max_queued: int, on_overflow: Callable[[], object] = lambda: None,
                 ) -> None:
        self.run_id: str | None = None
        self._max_queued = max_queued
        self._on_overflow = on_overflow
        self._events: deque[RunEvent] = deque()
        self._wakeup = asyncio.Event()
        self._overflowed = False
        self._closed = False

    @property
    def overflowed(self) -> bool:
        """Return True once more events waited than the stream may hold."""
        return self._overflowed

    def deliver(self, event: RunEvent) -> None:
        """Bus callback: keep `event` if it belongs to the followed run; never blocks."""
        if event.run_id != self.run_id or self._overflowed:
            return
        if len(self._events) >= self._max_queued:
            self._overflowed = True
            self._events.clear()
            self._on_overflow()
        else:
            self._events.append(event)
        self._wakeup.set()

    def close(self) -> None:
        """End the feed once what it holds is taken (server shutdown)."""
        self._closed = True
        self._wakeup.set()

    async def next(self, *, timeout_s: float) -> RunEvent | None:
        """Return the next event, or None after `timeout_s` without one.

        Raises `SlowConsumerError` once the feed overflowed and `FeedClosedError` once it is
        closed and empty.
        """
        while not self._events:
            if self._overflowed:
                raise SlowConsumerError
            if self._closed:
                raise FeedClosedError
            self._wakeup.clear()
            try:
                async with asyncio.timeout(timeout_s):
                    await self._wakeup.wait()
            except TimeoutError:
                return None
        return self._events.popleft()
