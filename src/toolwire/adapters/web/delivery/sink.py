"""What the delivery pipeline needs of a transport: a `Sink`, a renderer, the run log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from toolwire.services.events import RunEvent

Render = Callable[[RunEvent], tuple[bytes, ...]]
"""The protocol's chunks of one run event (WebSocket frames, or one SSE chunk); may be empty."""

Replay = Callable[[str, int], Awaitable[list[RunEvent]]]
"""The run log: the kept events of `run_id` after `after_seq` (the bus's `replay`)."""


class Sink(Protocol):
    """One peer's transport, written by one task at a time."""

    async def write(self, chunks: Sequence[bytes]) -> None:
        """Write `chunks` in order, each whole (frames, or SSE text); may wait for the peer
        to read. Chunks given together may share one write to the transport."""

    async def close(self, code: int, reason: str) -> None:
        """End the stream in the protocol's orderly way (may wait for the peer)."""

    def backlog(self) -> int | None:
        """Return the bytes the transport holds that the kernel would not take (None: gone)."""

    def abort(self) -> None:
        """Cut the connection now."""
