"""`EventBusBase`: each (run_id, seq) reaches a user's subscribers once, in order, bounded."""

from __future__ import annotations

import pytest

from tests.support import event
from toolwire.adapters.bus_base import RUNS_TRACKED_PER_USER, EventBusBase
from toolwire.services.events import RunEvent


class GapNoting(EventBusBase):
    """A bus that records the gaps it is handed (filling none) and what it listens to."""

    def __init__(self, *, refuse: bool = False) -> None:
        super().__init__()
        self.gaps: list[tuple[str, int, int]] = []
        self.listening: set[str] = set()
        self.refuse = refuse

    def _on_gap(self, user_id: str, event: RunEvent, last_seq: int) -> bool:
        self.gaps.append((event.run_id, last_seq, event.seq))
        return False

    async def _listen_to_user(self, user_id: str) -> None:
        self.listening.add(user_id)
        if self.refuse:
            raise ConnectionError("the backend is down")

    async def _stop_listening_to_user(self, user_id: str) -> None:
        self.listening.discard(user_id)

    async def _listen_to_cancels(self) -> None:
        self.listening.add("*cancels*")
        if self.refuse:
            raise ConnectionError("the backend is down")

    async def _stop_listening_to_cancels(self) -> None:
        self.listening.discard("*cancels*")


class Incomplete(EventBusBase):
    """A bus that forgot its hooks."""


async def test_repeats_are_dropped_whatever_their_order() -> None:
    bus = GapNoting()
    got: list[RunEvent] = []
    await bus.subscribe("ada", got.append)
    for seq in (1, 2, 1, 3, 2, 3):
        bus._deliver("ada", event("r1", seq))
    assert [e.seq for e in got] == [1, 2, 3]


async def test_an_event_after_a_gap_goes_to_the_bus_first_and_a_refill_skips_that() -> None:
    bus = GapNoting()
    got: list[RunEvent] = []
    await bus.subscribe("ada", got.append)
    bus._deliver("ada", event("r1", 1))
    bus._deliver("ada", event("r1", 4))
    bus._deliver("ada", event("r2", 7), may_fill=False)
    assert bus.gaps == [("r1", 1, 4)]  # a run first seen mid-way is no gap
    assert [(e.run_id, e.seq) for e in got] == [("r1", 1), ("r1", 4), ("r2", 7)]


async def test_a_user_feed_remembers_a_bounded_number_of_runs() -> None:
    bus = GapNoting()
    got: list[RunEvent] = []
    await bus.subscribe("ada", got.append)
    for n in range(RUNS_TRACKED_PER_USER + 50):
        bus._deliver("ada", event(f"r{n}", 1, "agent_completed"))
    feed = bus._feeds["ada"]
    assert len(feed.delivered) == RUNS_TRACKED_PER_USER
    assert feed.ended <= feed.delivered.keys()
    newest = f"r{RUNS_TRACKED_PER_USER + 49}"
    bus._deliver("ada", event(newest, 1, "agent_completed"))  # a late repeat: still dropped
    assert len(got) == RUNS_TRACKED_PER_USER + 50


async def test_the_feed_goes_with_the_users_last_subscriber() -> None:
    bus = GapNoting()
    first = await bus.subscribe("ada", lambda _: None)
    second = await bus.subscribe("ada", lambda _: None)
    bus._deliver("ada", event("r1", 1))
    await first.close()
    assert bus.subscriber_count("ada") == 1
    await second.close()
    await second.close()  # closing twice is harmless
    assert bus.subscriber_count("ada") == 0
    assert "ada" not in bus._feeds


def test_an_instance_reads_other_instances_announcements_and_drops_its_own() -> None:
    mine, theirs = GapNoting(), GapNoting()
    assert mine._foreign_body(mine._announcement("x").encode()) is None
    assert mine._foreign_body(theirs._announcement('{"a":1}').encode()) == b'{"a":1}'


async def test_a_failed_subscribe_forgets_its_subscriber_and_stops_listening() -> None:
    bus = GapNoting(refuse=True)
    with pytest.raises(ConnectionError):
        await bus.subscribe("ada", lambda _: None)
    with pytest.raises(ConnectionError):
        await bus.on_cancel(lambda _: None)
    assert bus.subscriber_count("ada") == 0
    assert bus.listening == set()
    bus._deliver("ada", event("r1", 1))  # nobody is left to hand it to
    assert "ada" not in bus._feeds


async def test_a_failed_subscribe_leaves_the_users_other_subscribers_alone() -> None:
    bus = GapNoting()
    got: list[RunEvent] = []
    await bus.subscribe("ada", got.append)
    bus.refuse = True
    with pytest.raises(ConnectionError):
        await bus.subscribe("ada", lambda _: None)
    assert bus.subscriber_count("ada") == 1
    assert bus.listening == {"ada"}
    bus._deliver("ada", event("r1", 1))
    assert got == [event("r1", 1)]


def test_a_bus_must_say_how_it_listens() -> None:
    with pytest.raises(TypeError, match="_listen_to_user"):
        Incomplete()  # type: ignore[abstract]
