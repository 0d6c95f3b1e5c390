"""`EventBusBase`: what every event bus does in-process.

Local subscribers per user, cancel listeners, echo dropping by instance id (as
python-socketio's pub/sub manager does), and delivery to them with each `(run_id, seq)`
handed over once and in order: a repeat is dropped here, in one place, whatever path brought
it (a retried publish, an echo of an announcement, a refill after a reconnect). A bus that
can find missed events (Redis reads the run's stream) overrides `_on_gap`.

Each bus says how it hears of what other processes publish through four abstract hooks
(`_listen_to_user`, `_stop_listening_to_user`, `_listen_to_cancels`,
`_stop_listening_to_cancels`); a bus of one process implements them as no-ops.
"""

from __future__ import annotations

import logging
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Final

from toolwire.services.events import RunEvent
from toolwire.services.ports import CancelHandler, Deliver

log = logging.getLogger(__name__)

HOST_ID_LENGTH: Final = 32
"""Length of the id every announcement of a bus instance starts with (ASCII hex)."""

RUNS_TRACKED_PER_USER: Final = 256
"""How many runs' last delivered `seq` a user's feed remembers (oldest forgotten first)."""


class BusClosedError(RuntimeError):
    """The event bus was used after `aclose()`."""


@dataclass(slots=True, eq=False)
class BusSubscription:
    """One local subscriber of one user's events."""

    bus: EventBusBase
    user_id: str
    deliver: Deliver
    active: bool = True

    async def close(self) -> None:
        """Stop delivering events."""
        await self.bus._remove_subscriber(self)


@dataclass(slots=True, eq=False)
class BusCancelListener:
    """One local handler of cancel requests."""

    bus: EventBusBase
    handler: CancelHandler
    active: bool = True

    async def close(self) -> None:
        """Stop calling the handler."""
        await self.bus._remove_cancel_listener(self)


@dataclass(slots=True, eq=False)
class UserFeed:
    """One user's local subscribers, and the last `seq` they were given of each run."""

    subscribers: list[BusSubscription] = field(default_factory=list)
    delivered: dict[str, int] = field(default_factory=dict)  # insertion order = age
    ended: set[str] = field(default_factory=set)

    def last_seq(self, run_id: str) -> int:
        """Return the last `seq` of `run_id` delivered here (0 when none)."""
        return self.delivered.get(run_id, 0)

    def live_runs(self) -> dict[str, int]:
        """Return the runs seen here and not yet ended, with their last delivered `seq`."""
        return {run: seq for run, seq in self.delivered.items() if run not in self.ended}

    def note(self, event: RunEvent) -> None:
        """Remember that `event` was delivered."""
        run_id = event.run_id
        if run_id not in self.delivered and len(self.delivered) >= RUNS_TRACKED_PER_USER:
            oldest = next(iter(self.delivered))
            del self.delivered[oldest]
            self.ended.discard(oldest)
        self.delivered[run_id] = event.seq
        if event.type == "agent_completed":
            self.ended.add(run_id)


class EventBusBase(ABC):
    """Local fan-out shared by the buses: subscriptions, cancel listeners, once-only delivery.

    Subclasses tell the outside world through the `_listen_*`/`_stop_listening_*` hooks when
    a local subscriber of a user (or cancel listener) arrives and when the last one leaves.
    A subscription whose `_listen_*` hook fails (or is cancelled) is forgotten again, and the
    `_stop_listening_*` hook runs when it was the last one, so nothing keeps listening for it.
    """

    def __init__(self) -> None:
        self.host_id = uuid.uuid4().hex  # HOST_ID_LENGTH characters
        self._host_prefix = self.host_id.encode()
        self._feeds: dict[str, UserFeed] = {}
        self._cancel_listeners: list[BusCancelListener] = []
        self._closed = False

    async def subscribe(self, user_id: str, deliver: Deliver) -> BusSubscription:
        """Call `deliver` for every later event of `user_id`."""
        self._check_open()
        sub = BusSubscription(self, user_id, deliver)
        feed = self._feeds.get(user_id)
        if feed is None:
            feed = self._feeds[user_id] = UserFeed()
        feed.subscribers.append(sub)
        try:
            await self._listen_to_user(user_id)
        except BaseException:
            await self._remove_subscriber(sub)
            raise
        return sub

    async def on_cancel(self, handler: CancelHandler) -> BusCancelListener:
        """Call `handler` for every later cancel request."""
        self._check_open()
        listener = BusCancelListener(self, handler)
        self._cancel_listeners.append(listener)
        try:
            await self._listen_to_cancels()
        except BaseException:
            await self._remove_cancel_listener(listener)
            raise
        return listener

    def subscriber_count(self, user_id: str) -> int:
        """Return how many live local subscriptions `user_id` has."""
        feed = self._feeds.get(user_id)
        return 0 if feed is None else len(feed.subscribers)

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosedError("the event bus is closed")

    def _deliver(self, user_id: str, event: RunEvent, *, may_fill: bool = True) -> None:
        """Hand `event` to the user's local subscribers unless they already had it.

        An event past a gap (its run's last delivered `seq` + 1 is missing) goes to `_on_gap`
        first when `may_fill`; a bus that cannot fill gaps delivers it as it is.
        """
        feed = self._feeds.get(user_id)
        if feed is None:
            return
        last = feed.delivered.get(event.run_id, 0)
        if event.seq <= last:
            return
        if may_fill and last and event.seq > last + 1 and self._on_gap(user_id, event, last):
            return
        feed.note(event)
        for sub in tuple(feed.subscribers):
            try:
                sub.deliver(event)
            except Exception:
                log.exception("subscriber of user %s failed", user_id)

    def _announcement(self, body: str) -> str:
        """Return `body` prefixed with this instance's id, for other instances to read."""
        return self.host_id + body

    def _foreign_body(self, data: bytes) -> bytes | None:
        """Return the body of another instance's announcement; None for this one's echo.

        The echo is recognised by its prefix alone, before anything is decoded.
        """
        if data.startswith(self._host_prefix):
            return None
        if len(data) < HOST_ID_LENGTH:
            raise ValueError(f"announcement of {len(data)} bytes has no instance id")
        return data[HOST_ID_LENGTH:]

    def _on_gap(self, user_id: str, event: RunEvent, last_seq: int) -> bool:
        """Take over `event`, which comes after a gap; return False to deliver it anyway."""
        return False

    def _cancel_locally(self, run_id: str) -> None:
        """Call every local cancel handler with `run_id`."""
        for listener in tuple(self._cancel_listeners):
            try:
                listener.handler(run_id)
            except Exception:
                log.exception("cancel handler failed for run %s", run_id)

    async def _remove_subscriber(self, sub: BusSubscription) -> None:
        if self._forget_subscriber(sub):
            await self._stop_listening_to_user(sub.user_id)

    def _forget_subscriber(self, sub: BusSubscription) -> bool:
        """Drop `sub`; return True when it was its user's last local subscriber."""
        if not sub.active:
            return False
        sub.active = False
        feed = self._feeds.get(sub.user_id)
        if feed is None or sub not in feed.subscribers:
            return False
        feed.subscribers.remove(sub)
        if feed.subscribers:
            return False
        del self._feeds[sub.user_id]
        return True

    async def _remove_cancel_listener(self, listener: BusCancelListener) -> None:
        if self._forget_cancel_listener(listener):
            await self._stop_listening_to_cancels()

    def _forget_cancel_listener(self, listener: BusCancelListener) -> bool:
        """Drop `listener`; return True when it was the last one."""
        if not listener.active or listener not in self._cancel_listeners:
            return False
        listener.active = False
        self._cancel_listeners.remove(listener)
        return not self._cancel_listeners

    def _drop_local_state(self) -> None:
        """Forget every subscriber and cancel listener (on close)."""
        self._closed = True
        for feed in self._feeds.values():
            for sub in feed.subscribers:
                sub.active = False
        for listener in self._cancel_listeners:
            listener.active = False
        self._feeds.clear()
        self._cancel_listeners.clear()

    @abstractmethod
    async def _listen_to_user(self, user_id: str) -> None:
        """Make sure events of `user_id` published anywhere reach this bus from now on."""

    @abstractmethod
    async def _stop_listening_to_user(self, user_id: str) -> None:
        """The last local subscriber of `user_id` left: stop listening for that user."""

    @abstractmethod
    async def _listen_to_cancels(self) -> None:
        """Make sure cancel requests from anywhere reach this bus from now on."""

    @abstractmethod
    async def _stop_listening_to_cancels(self) -> None:
        """The last local cancel listener left: stop listening for cancel requests."""
