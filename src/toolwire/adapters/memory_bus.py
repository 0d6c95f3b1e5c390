"""`InMemoryEventBus`: one process, per-user fan-out, bounded per-run replay logs."""

from __future__ import annotations

import time
from collections.abc import Callable

from toolwire.adapters.bus_base import EventBusBase
from toolwire.adapters.run_logs import RunLogs
from toolwire.services.events import RunEvent

DEFAULT_RETAINED_BYTES_PER_USER = 16 * 1024 * 1024
DEFAULT_RETAINED_BYTES = 256 * 1024 * 1024


class InMemoryEventBus(EventBusBase):
    """Event bus for a single process; keeps ended runs for resume within time and byte bounds."""

    def __init__(
        self,
        *,
        retention_s: float = 900.0,
        max_events: int = 10_000,
        retained_bytes_per_user: int = DEFAULT_RETAINED_BYTES_PER_USER,
        retained_bytes: int = DEFAULT_RETAINED_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.logs = RunLogs(
            retention_s=retention_s, max_events=max_events,
            max_bytes_per_user=retained_bytes_per_user, max_bytes=retained_bytes, clock=clock,
        )

    async def publish(self, user_id: str, event: RunEvent) -> None:
        """Keep `event` for replay, then hand it to each of the user's subscribers.

        A repeat of a `seq` already kept for the run is neither kept nor delivered again.
        """
        if self.logs.append(user_id, event):
            self._deliver(user_id, event)

    async def replay(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        """Return the kept events of `run_id` with `seq > after_seq`."""
        run = self.logs.get(run_id)
        if run is None:
            return []
        return run.after(after_seq)

    async def run_owner(self, run_id: str) -> str | None:
        """Return the user of a kept run, or None."""
        run = self.logs.get(run_id)
        return None if run is None else run.user_id

    async def request_cancel(self, run_id: str) -> None:
        """Call every cancel handler with `run_id`."""
        self._cancel_locally(run_id)

    async def watched_elsewhere(self, user_id: str) -> bool:
        """Return False: there is no other instance."""
        return False

    async def runs_elsewhere(self, user_id: str) -> list[str]:
        """Return no run: there is no other instance."""
        return []

    async def run_closed(self, run_id: str) -> None:
        """Nothing to release: one process is the whole deployment."""

    async def ping(self) -> bool:
        """Return True while the bus is open."""
        return not self._closed

    async def aclose(self) -> None:
        """Drop every subscription and kept run."""
        self._drop_local_state()
        self.logs.clear()

    # One process: every event and cancel request is published on this bus itself, so there
    # is nothing elsewhere to listen to.

    async def _listen_to_user(self, user_id: str) -> None:
        """Nothing to do: events of `user_id` are only ever published here."""

    async def _stop_listening_to_user(self, user_id: str) -> None:
        """Nothing to do (see `_listen_to_user`)."""

    async def _listen_to_cancels(self) -> None:
        """Nothing to do: cancel requests are only ever made here."""

    async def _stop_listening_to_cancels(self) -> None:
        """Nothing to do (see `_listen_to_cancels`)."""
