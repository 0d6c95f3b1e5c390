"""What every benchmark server streams: the start command, the marked text and its pacing.

Each event's text starts with a marker that carries its index and the server's
`time.monotonic_ns()` when it was produced (CLOCK_MONOTONIC is shared by every process on
the machine, so the client subtracts it from its own clock to get the delivery latency),
then padding up to a fixed length, so every server sends frames of about the same size.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Final

MARKER: Final = re.compile(r"#(\d{7}):(\d{20})#")
MARKER_CHARS: Final = 30  # len("#0000000:00000000000000000000#")
YIELD_EVERY: Final = 10  # a burst lets the loop run (writers, other runs) every this many events


@dataclass(frozen=True, slots=True)
class StreamCommand:
    """Stream `events` marked texts of `text_chars` characters at `rate` per second (0: burst)."""

    events: int
    rate: float
    text_chars: int

    def to_json(self) -> str:
        """Return the command as JSON text (a toolwire chat message, a raw or Socket.IO frame)."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> StreamCommand:
        """Parse a command sent by the benchmark client (raises ValueError when malformed)."""
        try:
            raw = json.loads(text)
            return cls(int(raw["events"]), float(raw["rate"]), int(raw["text_chars"]))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a stream command: {exc}") from exc


def marked_text(index: int, text_chars: int) -> str:
    """Return event `index`'s text: the marker with the time now, padded to `text_chars`."""
    marker = f"#{index:07d}:{time.monotonic_ns():020d}#"
    return marker + "x" * max(0, text_chars - MARKER_CHARS)


async def stream(command: StreamCommand, emit: Callable[[int, str], Awaitable[object]]) -> None:
    """Emit the command's events: as fast as possible, or paced against the clock."""
    started = time.monotonic()
    for index in range(command.events):
        if command.rate > 0:
            delay = started + index / command.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        elif index % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        await emit(index, marked_text(index, command.text_chars))
