"""`EventLog` and `RecordingBus`: every event a test's bus published, and who received it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from toolwire.services.events import RunEvent
from toolwire.services.ports import CancelHandler, Deliver, EventBus, Subscription
from toolwire.testing.invariants import (
    EventLike,
    assert_sequence,
    assert_well_formed,
    format_run_table,
)


class EventLog:
    """The events published during one test, by run, plus every delivery to a user."""

    def __init__(self) -> None:
        self.published: list[tuple[str, RunEvent]] = []
        self.deliveries: list[tuple[str, str, EventLike]] = []

    def record_published(self, user_id: str, event: RunEvent) -> None:
        """Remember that `event` was published for `user_id`."""
        self.published.append((user_id, event))

    def record_delivery(self, user_id: str, via: str, event: EventLike) -> None:
        """Remember that `event` reached a subscriber or socket (`via`) of `user_id`."""
        self.deliveries.append((user_id, via, event))

    def runs(self) -> list[str]:
        """Return the run ids seen, in the order their first event was published."""
        return list(dict.fromkeys(event.run_id for _, event in self.published))

    def events(self, run_id: str | None = None) -> list[RunEvent]:
        """Return the events of `run_id` (or of the only run) in publishing order."""
        wanted = self._resolve(run_id)
        return [event for _, event in self.published if event.run_id == wanted]

    def types(self, run_id: str | None = None) -> list[str]:
        """Return the event types of `run_id` (or of the only run)."""
        return [event.type for event in self.events(run_id)]

    def user_of(self, run_id: str) -> str | None:
        """Return the user whose run `run_id` is, or None when nothing of it was published."""
        return next((user for user, event in self.published if event.run_id == run_id), None)

    def assert_well_formed(self, run_id: str | None = None) -> None:
        """Fail, showing the run as a table, unless `run_id` (default: every run) keeps §3."""
        __tracebackhide__ = True
        for one in self.runs() if run_id is None else [run_id]:
            assert_well_formed(self.events(one))

    def assert_sequence(self, run_id: str | None, expected: Sequence[str]) -> None:
        """Fail, showing the run as a table, unless its event types are exactly `expected`."""
        __tracebackhide__ = True
        assert_sequence(self.events(run_id), expected)

    def assert_isolated(self) -> None:
        """Fail unless every delivered event went only to the user whose run it belongs to."""
        __tracebackhide__ = True
        owners = {event.run_id: user for user, event in self.published}
        leaks = []
        for user, via, event in self.deliveries:
            wire = event.to_wire() if isinstance(event, RunEvent) else event
            owner = owners.get(str(wire.get("run_id")))
            if owner != user:
                leaks.append(f"{wire.get('type')} seq {wire.get('seq')} of run "
                             f"{wire.get('run_id')} (user {owner!r}) reached {via} of {user!r}")
        if leaks:
            raise AssertionError("events reached another user:\n  - " + "\n  - ".join(leaks))

    async def wait_completed(self, run_id: str | None = None, *, within_s: float = 5.0) -> None:
        """Wait (polling, at most `within_s`) until `run_id` has published `agent_completed`."""
        deadline = time.monotonic() + within_s
        while True:
            try:
                if "agent_completed" in self.types(run_id):
                    return
            except LookupError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"run {run_id or '(the only one)'} did not complete within {within_s:g} s\n"
                    + self.describe()
                )
            await asyncio.sleep(0.005)

    def describe(self) -> str:
        """Return every recorded run as a readable table (for failure reports)."""
        if not self.published:
            return "no events were published"
        return "\n\n".join(
            f"run {run_id} (user {self.user_of(run_id)}):\n{format_run_table(self.events(run_id))}"
            for run_id in self.runs()
        )

    def _resolve(self, run_id: str | None) -> str:
        if run_id is not None:
            return run_id
        runs = self.runs()
        if len(runs) != 1:
            raise LookupError(f"pass a run_id: {len(runs)} runs were recorded ({runs})")
        return runs[0]


class RecordingBus:
    """An `EventBus` decorator: delegates everything and records publishes and deliveries."""

    def __init__(self, inner: EventBus, log: EventLog) -> None:
        self.inner = inner
        self.log = log

    async def publish(self, user_id: str, event: RunEvent) -> None:
        """Publish through the real bus, then record the event."""
        await self.inner.publish(user_id, event)
        self.log.record_published(user_id, event)

    async def subscribe(self, user_id: str, deliver: Deliver) -> Subscription:
        """Subscribe through the real bus, recording each delivery to this subscriber."""

        def tap(event: RunEvent) -> None:
            self.log.record_delivery(user_id, "a bus subscriber", event)
            deliver(event)

        return await self.inner.subscribe(user_id, tap)

    async def replay(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        """Delegate to the real bus."""
        return await self.inner.replay(run_id, after_seq)

    async def run_owner(self, run_id: str) -> str | None:
        """Delegate to the real bus."""
        return await self.inner.run_owner(run_id)

    async def request_cancel(self, run_id: str) -> None:
        """Delegate to the real bus."""
        await self.inner.request_cancel(run_id)

    async def watched_elsewhere(self, user_id: str) -> bool:
        """Delegate to the real bus."""
        return await self.inner.watched_elsewhere(user_id)

    async def runs_elsewhere(self, user_id: str) -> list[str]:
        """Delegate to the real bus."""
        return await self.inner.runs_elsewhere(user_id)

    async def run_closed(self, run_id: str) -> None:
        """Delegate to the real bus."""
        await self.inner.run_closed(run_id)

    async def on_cancel(self, handler: CancelHandler) -> Subscription:
        """Delegate to the real bus."""
        return await self.inner.on_cancel(handler)

    async def ping(self) -> bool:
        """Delegate to the real bus."""
        return await self.inner.ping()

    async def aclose(self) -> None:
        """Delegate to the real bus."""
        await self.inner.aclose()

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (e.g. while copying): avoid endless recursion
            raise AttributeError(name)
        return getattr(self.inner, name)
