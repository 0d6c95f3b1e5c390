"""`RunFeed`: one run's events for one stream, bounded, and how it ends."""

from __future__ import annotations

import pytest

from tests.support import event
from toolwire.adapters.web.agui.feed import FeedClosedError, RunFeed, SlowConsumerError


async def test_only_the_followed_runs_events_are_kept_in_order() -> None:
    feed = RunFeed(max_queued=8)
    feed.deliver(event("r_1", 1))  # before the feed knows its run: not kept
    feed.run_id = "r_1"
    for delivered in (event("r_1", 2), event("r_2", 1), event("r_1", 3)):
        feed.deliver(delivered)
    first, second = await feed.next(timeout_s=1), await feed.next(timeout_s=1)
    assert first is not None and second is not None
    assert (first.seq, second.seq) == (2, 3)
    assert await feed.next(timeout_s=0.01) is None  # nothing more: a keep-alive is due


async def test_past_the_bound_it_overflows_once_and_the_stream_ends() -> None:
    overflows: list[int] = []
    feed = RunFeed(max_queued=2, on_overflow=lambda: overflows.append(1))
    feed.run_id = "r_1"
    for seq in range(1, 6):
        feed.deliver(event("r_1", seq))
    assert overflows == [1]
    with pytest.raises(SlowConsumerError):
        await feed.next(timeout_s=1)


async def test_closing_hands_out_what_it_holds_then_ends() -> None:
    feed = RunFeed(max_queued=8)
    feed.run_id = "r_1"
    feed.deliver(event("r_1", 1))
    feed.close()
    assert (await feed.next(timeout_s=1)) == event("r_1", 1)
    with pytest.raises(FeedClosedError):
        await feed.next(timeout_s=1)
