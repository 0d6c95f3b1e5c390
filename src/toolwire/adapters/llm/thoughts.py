"""`ThoughtStream`: streamed model text, coalesced into a few `agent_thinking` events."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable


class ThoughtStream:
    """Buffers text; hands it to `think` once `max_chars` wait or `interval_s` passed.

    Flushing happens as text arrives (no timer): a slow stream still flushes on its next piece,
    and `flush()` at the end of the stream sends the rest.
    """

    __slots__ = ("_interval_s", "_last", "_max_chars", "_pending", "_size", "_think")

    def __init__(
        self, think: Callable[[str], Awaitable[None]], *, max_chars: int, interval_s: float
    ) -> None:
        self._think = think
        self._max_chars = max_chars
        self._interval_s = interval_s
        self._pending: list[str] = []
        self._size = 0
        self._last = time.monotonic()

    async def add(self, text: str) -> None:
        """Buffer `text`; send the buffer when it is big or old enough."""
        if not text:
            return
        self._pending.append(text)
        self._size += len(text)
        if self._size >= self._max_chars or time.monotonic() - self._last >= self._interval_s:
            await self.flush()

    async def flush(self) -> None:
        """Send what is buffered; whitespace alone waits for the text that follows it."""
        text = "".join(self._pending)
        if not text.strip():
            return
        self._pending.clear()
        self._size = 0
        self._last = time.monotonic()
        await self._think(text)
