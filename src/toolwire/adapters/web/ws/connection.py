"""`Connection`: one socket's session: who (with which scopes), its writer, the runs it awaits."""

from __future__ import annotations

import asyncio

from toolwire.adapters.web.ws.writer import SocketWriter
from toolwire.services.context import new_id
from toolwire.services.events import RunEvent


class Connection:
    """Per-socket state; `deliver` is the bus callback and never blocks."""

    __slots__ = ("__weakref__", "_first_events", "connection_id", "scopes", "user_id", "writer")

    def __init__(self, user_id: str, writer: SocketWriter, connection_id: str | None = None,
                 scopes: frozenset[str] = frozenset()):
        self.user_id = user_id
        self.scopes = scopes  # what the socket's token grants: its runs' tools depend on them
        self.writer = writer
        self.connection_id = connection_id or new_id("w")
        self._first_events: dict[str, asyncio.Future[None]] = {}

    def deliver(self, event: RunEvent) -> None:
        """Queue `event` for this socket."""
        if self._first_events:
            waiter = self._first_events.pop(event.run_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        self.writer.send_event(event)

    def expect_run(self, run_id: str) -> asyncio.Future[None]:
        """Return a future that is done once an event of `run_id` is queued on this socket."""
        waiter = asyncio.get_running_loop().create_future()
        self._first_events[run_id] = waiter
        return waiter

    def forget_run(self, run_id: str) -> None:
        """Stop watching for the first event of `run_id`."""
        self._first_events.pop(run_id, None)
