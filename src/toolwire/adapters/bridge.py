"""`WebSocketBridge`: a scope's event sink; stamps run, thread, `seq` and `ts`, then publishes."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Final, cast

from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import (
    PublishFailedError,
    RunTakenOverError,
    ScopeClosedError,
)
from toolwire.services.events import AgentThinking, EventPayload, RunEvent, ToolCompleted
from toolwire.services.limits import ScopeSettings
from toolwire.services.ports import EventBus, EventObserver, PipelinedBus
from toolwire.services.wire_json import timestamp

log = logging.getLogger(__name__)

FIRST_RETRY_S: Final = 0.05
MAX_RETRY_S: Final = 2.0
CANCELLED_RETRY_S: Final = 5.0
"""How long a cancelled run keeps retrying a failing bus before it gives its events up."""
MIN_ATTEMPT_S: Final = 0.2
"""The least time one publish attempt of a cancelled run gets."""


class WebSocketBridge:
    """Publishes one run's events to every socket of its user, numbered 1..n without gaps.

    `emit` is atomic under cancellation: an event it has stamped is published before a
    `CancelledError` propagates, so a caller that sees the error knows the event went out
    and ends what it opened (a `tool_executing` gets its `tool_completed`, a run its
    `agent_completed`).

    A `seq` is never given to two events: an event whose publish failed keeps its number
    and is owed, published again (buses keep a repeat once) before the next event, so every
    view of the run is the same sequence with no gap.
    """

    __slots__ = (
        "_ahead",
        "_bus",
        "_bus_provider",
        "_clock",
        "_closed",
        "_give_up_at",
        "_inflight",
        "_lock",
        "_observers",
        "_owed",
        "_retry_for_s",
        "_seq",
        "user_context",
    )

    def __init__(
        self,
        *,
        user_context: UserExecutionContext,
        bus: EventBus | None = None,
        bus_provider: Callable[[], EventBus] | None = None,
        retry_for_s: float = 0.0,
        observers: Sequence[EventObserver] = (),
        clock: Callable[[], float] = time.time,
        settings: ScopeSettings | None = None,
    ) -> None:
        """Build a bridge on `bus`, or on the bus `bus_provider` gives when the bridge first
        publishes (the container's way: a scope that publishes nothing never resolves the
        bus, and an override made before the first event still reaches it); `settings`
        supplies `retry_for_s` (`runs.max_duration_s`)."""
        if (bus is None) == (bus_provider is None):
            raise TypeError("a bridge needs exactly one of bus= and bus_provider=")
        if settings is not None:
            retry_for_s = settings.runs.max_duration_s
        self.user_context = user_context
        self._bus = bus
        self._bus_provider = bus_provider
        self._retry_for_s = retry_for_s
        self._observers = observers
        self._clock = clock
        self._seq = 0
        self._owed: list[RunEvent] = []
        self._inflight: list[tuple[RunEvent, asyncio.Future[None]]] = []  # handed over ahead
        self._ahead: bool | None = None  # whether the bus takes events ahead (on first use)
        self._give_up_at: float | None = None  # set once the run is being cancelled
        self._closed = False
        self._lock: asyncio.Lock | None = None

    @property
    def bus(self) -> EventBus:
        """Return the event bus this bridge publishes on (resolved on first use)."""
        bus = self._bus
        if bus is None:
            assert self._bus_provider is not None
            bus = self._bus = self._bus_provider()
        return bus

    @property
    def last_seq(self) -> int:
        """Return the `seq` of the last event known published (0 before the first)."""
        return self._seq - len(self._owed) - len(self._inflight)

    @property
    def closed(self) -> bool:
        """Return True once `aclose()` ran."""
        return self._closed

    async def emit(self, payload: EventPayload) -> RunEvent:
        """Stamp `payload` with the next `seq` and publish it.

        While the bus fails, the same event is retried with backoff for `retry_for_s`, so a
        run outlives a short outage with nothing lost; past that `PublishFailedError` (from the
        bus's error) propagates and the event is owed: the next `emit` publishes it first.
        """
        lock = self._lock
        if lock is None:
            lock = self._lock = asyncio.Lock()
        if lock.locked():
            cancelled = await _acquire_deferring_cancel(lock)
        else:
            await lock.acquire()  # free: taken at once, without a suspension to cancel
            cancelled = False
        try:
            if self._closed:
                raise ScopeClosedError("this bridge's request scope is closed")
            ctx = self.user_context
            event = RunEvent.stamp(payload, run_id=ctx.run_id, thread_id=ctx.thread_id,
                                   seq=self._seq + 1, ts=timestamp(self._clock()))
            self._seq = event.seq  # taken for good, even if its publish fails
            if (not self._owed and not cancelled and self._give_up_at is None
                    and not self._observers and self._publish_ahead(event)):
                if type(payload) in AHEAD:
                    return event
                # wait for it and those ahead of it (one batch); publish again what failed
                pending, cancelled = await self._settle_inflight(cancelled)
            else:
                pending, self._owed = [*self._owed, event], []
                if self._inflight:  # then nothing was owed: publish again what did not land
                    again, cancelled = await self._settle_inflight(cancelled)
                    pending = [*again, event]
            published, cancelled = await self._publish_in_order(pending, cancelled)
        finally:
            lock.release()
        for done in published:
            for observer in self._observers:
                await self._notify(observer, done)
        if cancelled:
            raise asyncio.CancelledError
        return event

    def _publish_ahead(self, event: RunEvent) -> bool:
        """Hand `event` to a pipelined bus without waiting for it; False when the bus is not
        one (or refused it at once: the usual path then reports why)."""
        ahead = self._ahead
        bus = self.bus
        if ahead is None:
            ahead = self._ahead = _is_pipelined(type(bus))
        if not ahead:
            return False
        try:
            stored = cast("PipelinedBus", bus).publish_soon(self.user_context.user_id, event)
        except Exception:
            return False
        inflight = self._inflight
        while inflight and _landed(inflight[0][1]):  # a long stream keeps only what is open
            del inflight[0]
        inflight.append((event, stored))
        return True

    async def _settle_inflight(self, cancelled: bool) -> tuple[list[RunEvent], bool]:
        """Wait for the events handed over ahead; return the first that did not land and
        every later one (to publish again, in order), and whether a cancellation arrived.

        Once the run is being cancelled, the wait ends `CANCELLED_RETRY_S` after the first
        sign, as a publish does. Raises the bus's refusal for good (`RunTakenOverError`).
        """
        inflight, self._inflight = self._inflight, []
        again: list[RunEvent] = []
        for event, stored in inflight:
            cancelled = await self._await_stored(stored, cancelled)
            if again or not stored.done() or stored.cancelled() or stored.exception():
                error = stored.exception() if stored.done() and not stored.cancelled() else None
                if isinstance(error, (TypeError, ValueError, RunTakenOverError)):
                    self._seq = event.seq - 1  # never stored: the numbers are free again
                    raise error
                again.append(event)
        return again, cancelled

    async def _await_stored(self, stored: asyncio.Future[None], cancelled: bool) -> bool:
        """Wait for `stored` (never cancelling it); return whether a cancellation arrived."""
        while not stored.done():
            if self._give_up_at is None and (cancelled or _being_cancelled()):
                self._give_up_at = time.monotonic() + CANCELLED_RETRY_S
            left = None if self._give_up_at is None else self._give_up_at - time.monotonic()
            if left is not None and left <= 0:
                break
            try:
                await asyncio.wait([stored], timeout=left)
            except asyncio.CancelledError:
                cancelled = True
        return cancelled

    async def _publish_in_order(
        self, pending: list[RunEvent], cancelled: bool,
    ) -> tuple[list[RunEvent], bool]:
        """Publish `pending` in order; what fails stays owed and the failure propagates."""
        for index, event in enumerate(pending):
            try:
                cancelled = await self._publish(event, cancelled)
            except (TypeError, ValueError, RunTakenOverError):
                # Refused for good (unencodable, or another instance ended the run): these
                # numbers were never stored, so they are free again.
                self._seq -= len(pending) - index
                raise
            except Exception as exc:
                self._owed = pending[index:]
                raise PublishFailedError(
                    f"the event bus did not take seq {event.seq}") from exc
        return pending, cancelled

    async def _publish(self, event: RunEvent, cancelled: bool) -> bool:
        """Publish `event`, retrying the same `seq` (buses keep a repeat once); return whether
        a cancellation arrived meanwhile.

        Once the run is being cancelled (here, or in the task that emits), every publish of it
        gives up `CANCELLED_RETRY_S` after the first sign, each attempt included, so a
        cancelled run ends within that bound whatever the bus does.
        """
        deadline = time.monotonic() + self._retry_for_s
        delay = FIRST_RETRY_S
        bus, user_id = self.bus, self.user_context.user_id
        while True:
            if self._give_up_at is None and (cancelled or _being_cancelled()):
                self._give_up_at = time.monotonic() + CANCELLED_RETRY_S
            try:
                if self._give_up_at is None:
                    await bus.publish(user_id, event)
                else:
                    deadline = min(deadline, self._give_up_at)
                    async with asyncio.timeout(max(MIN_ATTEMPT_S, deadline - time.monotonic())):
                        await bus.publish(user_id, event)
                return cancelled
            except asyncio.CancelledError:
                cancelled = True  # the publish may or may not have landed: repeat it
                continue
            except (TypeError, ValueError, RunTakenOverError):
                raise  # not an outage: retrying cannot help
            except Exception as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("publishing seq %d failed (%s: %s); retrying in %.2f s", event.seq,
                            type(exc).__name__, exc, delay,
                            extra={"run_id": event.run_id, "user_id": self.user_context.user_id})
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                cancelled = True
            delay = min(delay * 2, MAX_RETRY_S)

    async def _settle_before_close(self) -> None:
        """Wait for the events handed over ahead; what did not land is owed (and logged)."""
        try:
            again, cancelled = await self._settle_inflight(False)
        except RunTakenOverError:
            return  # another instance ended the run: nothing more of it is ours to publish
        self._owed = [*again, *self._owed]
        if cancelled:
            raise asyncio.CancelledError

    async def _notify(self, observer: EventObserver, event: RunEvent) -> None:
        try:
            await observer(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("an event observer failed",
                          extra={"run_id": event.run_id, "user_id": self.user_context.user_id})

    async def aclose(self) -> None:
        """Wait for an in-flight publish, then refuse further events; log what is owed."""
        if self._lock is not None:
            async with self._lock:
                self._closed = True
                if self._inflight:  # a run that ended without a last event it waited for
                    await self._settle_before_close()
        self._closed = True
        if not self._seq:
            return  # nothing was published: the bus holds nothing of this run
        try:
            await self.bus.run_closed(self.user_context.run_id)
        except Exception:
            log.exception("the event bus failed to release the run",
                          extra={"run_id": self.user_context.run_id,
                                 "user_id": self.user_context.user_id})
        if self._owed:
            log.error("run closed with events never published: seq %s (%s)",
                      ", ".join(str(e.seq) for e in self._owed),
                      ", ".join(e.type for e in self._owed),
                      extra={"run_id": self.user_context.run_id,
                             "user_id": self.user_context.user_id})


AHEAD: Final = frozenset({AgentThinking, ToolCompleted})
"""The events a run need not wait for before it goes on (a pipelined bus takes them ahead):
not its first (a run that cannot even start must not go on), not a `tool_executing` (the tool
runs only once its call is visible), not its last."""


def _landed(stored: asyncio.Future[None]) -> bool:
    """Return True when an event handed over ahead is stored."""
    return stored.done() and not stored.cancelled() and stored.exception() is None


@functools.cache
def _is_pipelined(bus_type: type) -> bool:
    """Return True for a bus class that takes events ahead (a protocol check is slow: once
    per class, not once per run)."""
    return issubclass(bus_type, PipelinedBus)


def _being_cancelled() -> bool:
    """Return True when the current task has a cancellation pending or being handled."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def _acquire_deferring_cancel(lock: asyncio.Lock) -> bool:
    """Acquire `lock` even if cancelled meanwhile; return whether a cancellation arrived."""
    cancelled = False
    while True:
        try:
            await lock.acquire()
            return cancelled
        except asyncio.CancelledError:
            cancelled = True
