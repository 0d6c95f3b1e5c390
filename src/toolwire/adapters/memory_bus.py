"""`InMemoryEventBus`: one process, per-user fan-out, per-run bounded replay log."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from toolwire.services.events import RunEvent
from toolwire.services.ports import CancelHandler, Deliver

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _RunLog:
    user_id: str
    events: deque[RunEvent]
    ended_at: float | None = None


@dataclass(slots=True, eq=False)
class MemorySubscription:
    """One subscriber of one user's events."""

    bus: InMemoryEventBus
    user_id: str
    deliver: Deliver
    active: bool = field(default=True)

    async def close(self) -> None:
        """Stop delivering events."""
        self.bus._unsubscribe(self)


@dataclass(slots=True, eq=False)
class MemoryCancelListener:
    """One handler of cancel requests."""

    bus: InMemoryEventBus
    handler: CancelHandler

    async def close(self) -> None:
        """Stop calling the handler."""
        if self in self.bus._cancel_listeners:
            self.bus._cancel_listeners.remove(self)


class InMemoryEventBus:
    """Event bus for a single process; keeps ended runs for `retention_s` for resume."""

    def __init__(
        self,
        *,
        retention_s: float = 900.0,
        max_events: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._retention_s = retention_s
        self._max_events = max_events
        self._clock = clock
        self._subscribers: dict[str, list[MemorySubscription]] = {}
        self._runs: dict[str, _RunLog] = {}
        self._ended: OrderedDict[str, float] = OrderedDict()
        self._cancel_listeners: list[MemoryCancelListener] = []
        self._closed = False

    async def publish(self, user_id: str, event: RunEvent) -> None:
        """Keep `event` for replay, then hand it to each of the user's subscribers.

        A repeat of a `seq` already kept for the run is ignored.
        """
        self._expire()
        run = self._runs.get(event.run_id)
        if run is None:
            run = self._runs[event.run_id] = _RunLog(user_id, deque(maxlen=self._max_events))
        elif run.events and event.seq <= run.events[-1].seq:
            return
        run.events.append(event)
        if event.type == "agent_completed":
            run.ended_at = self._clock()
            self._ended[event.run_id] = run.ended_at
        for sub in tuple(self._subscribers.get(user_id, ())):
            try:
                sub.deliver(event)
            except Exception:
                log.exception("subscriber of user %s failed", user_id)

    async def subscribe(self, user_id: str, deliver: Deliver) -> MemorySubscription:
        """Deliver every later event of `user_id` to `deliver`."""
        sub = MemorySubscription(self, user_id, deliver)
        self._subscribers.setdefault(user_id, []).append(sub)
        return sub

    def _unsubscribe(self, sub: MemorySubscription) -> None:
        if not sub.active:
            return
        sub.active = False
        subs = self._subscribers.get(sub.user_id, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self._subscribers.pop(sub.user_id, None)

    def subscriber_count(self, user_id: str) -> int:
        """Return how many live subscriptions `user_id` has."""
        return len(self._subscribers.get(user_id, ()))

    async def replay(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        """Return the kept events of `run_id` with `seq > after_seq`."""
        self._expire()
        run = self._runs.get(run_id)
        if run is None:
            return []
        return [event for event in run.events if event.seq > after_seq]

    async def run_owner(self, run_id: str) -> str | None:
        """Return the user of a kept run, or None."""
        self._expire()
        run = self._runs.get(run_id)
        return None if run is None else run.user_id

    async def request_cancel(self, run_id: str) -> None:
        """Call every cancel handler with `run_id`."""
        for listener in tuple(self._cancel_listeners):
            try:
                listener.handler(run_id)
            except Exception:
                log.exception("cancel handler failed for run %s", run_id)

    async def on_cancel(self, handler: CancelHandler) -> MemoryCancelListener:
        """Call `handler` for every later cancel request."""
        listener = MemoryCancelListener(self, handler)
        self._cancel_listeners.append(listener)
        return listener

    async def ping(self) -> bool:
        """Return True while the bus is open."""
        return not self._closed

    async def aclose(self) -> None:
        """Drop every subscription and kept run."""
        self._closed = True
        self._subscribers.clear()
        self._cancel_listeners.clear()
        self._runs.clear()
        self._ended.clear()

    def _expire(self) -> None:
        cutoff = self._clock() - self._retention_s
        while self._ended:
            run_id, ended_at = next(iter(self._ended.items()))
            if ended_at > cutoff:
                break
            self._ended.popitem(last=False)
            self._runs.pop(run_id, None)
