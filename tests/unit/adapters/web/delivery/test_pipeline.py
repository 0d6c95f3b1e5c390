"""`Delivery`: bounded queue, one writer, giving up on slow peers, repeats and gaps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import pytest

from tests.support import eventually
from toolwire.adapters.web.delivery import (
    MAX_TRACKED_RUNS,
    SLOW_CONSUMER,
    Delivery,
    DeliveryState,
    Render,
    pipeline,
)
from toolwire.services.events import EventType, RunEvent


class FakeSink:
    """Records chunks and the close; `gate` holds every write (and the close) until set.

    `backlog` is what the transport holds that the kernel would not take.
    """

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.writes: list[int] = []  # how many chunks each write carried
        self.close_args: tuple[int, str] | None = None
        self.gate = asyncio.Event()
        self.gate.set()
        self.backlog_bytes = 0
        self.gone = False  # the transport is closed
        self.aborted = False

    async def write(self, chunks: Sequence[bytes]) -> None:
        await self.gate.wait()
        self.sent.extend(chunks)
        self.writes.append(len(chunks))

    async def close(self, code: int, reason: str) -> None:
        await self.gate.wait()
        self.close_args = (code, reason)

    def backlog(self) -> int | None:
        return None if self.gone else self.backlog_bytes

    def abort(self) -> None:
        self.aborted = True


class RunLog:
    """The run log a delivery refills gaps from; records what it was asked."""

    def __init__(self, *events: RunEvent) -> None:
        self.events = list(events)
        self.asked: list[tuple[str, int]] = []

    async def replay(self, run_id: str, after_seq: int) -> list[RunEvent]:
        self.asked.append((run_id, after_seq))
        return [e for e in self.events if e.run_id == run_id and e.seq > after_seq]


def toolwire_frames(event: RunEvent) -> tuple[bytes, ...]:
    return (event.encoded(),)


class Harness:
    def __init__(self, *, max_frames: int = 8, max_bytes: int = 1 << 20,
                 close_timeout_s: float = 5.0, render: Render = toolwire_frames,
                 run_log: RunLog | None = None, stall_check_s: float = 3600) -> None:
        self.ws = FakeSink()
        self.released = 0
        self.run_log = run_log or RunLog()
        self.writer = Delivery(
            self.ws, render=render, replay=self.run_log.replay,
            max_frames=max_frames, max_bytes=max_bytes, close_timeout_s=close_timeout_s,
            on_give_up=self.release, log_extra={"user_id": "ada"},
            stall_check_s=stall_check_s)
        self.writer.start("test-writer")

    def release(self) -> None:
        self.released += 1

    def seqs(self) -> list[tuple[str, int]]:
        frames = [json.loads(data) for data in self.ws.sent]
        return [(f["run_id"], f["seq"]) for f in frames if "run_id" in f]


def event(seq: int, kind: EventType = "agent_thinking", run_id: str = "r_1",
          size: int = 0) -> RunEvent:
    return RunEvent(kind, run_id, "t_1", seq, "2026-01-01T00:00:00.000000Z", {"pad": "x" * size})


async def test_frames_are_written_in_order_then_closed() -> None:
    h = Harness()
    for n in range(5):
        h.writer.send(str(n).encode())
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.ws.sent == [b"0", b"1", b"2", b"3", b"4"]
    assert h.ws.close_args == (1000, "")
    assert h.released == 0


async def test_a_peer_that_reads_nothing_is_given_up_and_its_slot_freed_at_once() -> None:
    h = Harness(max_frames=2, close_timeout_s=0.05)
    h.ws.gate.clear()  # the peer reads nothing
    h.ws.backlog_bytes = 1  # and the kernel holds bytes it would not take
    h.writer.send(b"a")
    await eventually(lambda: h.writer.queued == (0, 0))  # the writer holds "a" and is stuck
    h.writer.send(b"b")
    h.writer.send(b"c")
    h.writer.send(b"d")  # over the bound: returns at once
    assert h.writer.gave_up
    assert h.released == 1  # the slot is back before any close handshake
    assert h.writer.queued == (0, 0)  # and the queue's memory with it
    h.writer.send(b"e")  # ignored from now on
    assert h.writer.queued == (0, 0)
    await h.writer.wait_closed()
    assert h.ws.sent == []


async def test_a_peer_that_never_answers_the_close_is_aborted_after_the_timeout() -> None:
    h = Harness(max_frames=1, close_timeout_s=0.05)
    h.ws.gate.clear()
    h.ws.backlog_bytes = 1
    for frame in (b"a", b"b", b"c"):
        h.writer.send(frame)
    await h.writer.wait_closed()
    assert h.writer.gave_up and h.ws.aborted
    assert h.ws.close_args is None  # the close never completed: the transport was cut


async def test_the_byte_bound_counts_bytes_not_frames() -> None:
    h = Harness(max_frames=1000, max_bytes=1000, close_timeout_s=0.05)
    h.ws.gate.clear()
    h.ws.backlog_bytes = 1
    h.writer.send_event(event(1, size=600))
    await eventually(lambda: h.writer.queued == (0, 0))
    h.writer.send_event(event(2, size=600))
    assert not h.writer.gave_up  # 719 B wait: within the bound
    h.writer.send_event(event(3, size=600))
    assert h.writer.gave_up


async def test_a_burst_before_the_writer_ran_is_not_a_slow_consumer() -> None:
    h = Harness(max_frames=2)
    for seq in range(1, 6):  # the kernel takes everything: nothing is behind
        h.writer.send_event(event(seq))
    assert not h.writer.gave_up
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.seqs() == [("r_1", n) for n in range(1, 6)]


async def test_even_a_fresh_burst_is_cut_at_the_hard_limit() -> None:
    h = Harness(max_frames=2)
    for seq in range(1, 10):  # 4x the bound: memory stays bounded whatever the peer does
        h.writer.send_event(event(seq))
    assert h.writer.gave_up


async def test_each_event_is_written_once_across_a_replay_seam() -> None:
    h = Harness()
    h.writer.send_event(event(1))
    fetched = h.writer.resume("r_1", 0)
    h.writer.send_event(event(3))  # live events that raced the fetch
    h.writer.send_event(event(4))
    fetched.set_result([event(1), event(2), event(3)])
    h.writer.send_event(event(4))  # a late duplicate
    h.writer.send_event(event(5, "agent_completed"))
    h.writer.send_event(event(5, "agent_completed"))
    h.writer.send_event(event(1, run_id="r_2"))  # other runs are untouched
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.seqs() == [("r_1", 1), ("r_1", 1), ("r_1", 2), ("r_1", 3), ("r_1", 4),
                        ("r_1", 5), ("r_2", 1)]


async def test_a_failed_replay_writes_nothing_and_the_stream_goes_on() -> None:
    h = Harness()
    fetched = h.writer.resume("r_1", 0)
    h.writer.send(b'{"type":"pong"}')
    fetched.set_exception(ConnectionError("bus down"))
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.ws.sent == [b'{"type":"pong"}']


async def test_the_slow_consumer_close_carries_its_reason() -> None:
    h = Harness(max_frames=1)
    h.ws.backlog_bytes = 1
    h.ws.gate.clear()
    for frame in (b"a", b"b", b"c"):
        h.writer.send(frame)
    h.ws.gate.set()  # the peer finally reads: it gets the close frame
    await h.writer.wait_closed()
    assert h.ws.close_args == (1008, SLOW_CONSUMER)


async def test_a_rendered_event_is_written_as_all_its_frames_and_once() -> None:
    h = Harness(render=lambda e: (b"%s:%d:a" % (e.run_id.encode(), e.seq),
                                  b"%s:%d:b" % (e.run_id.encode(), e.seq)))
    h.writer.send_event(event(1))
    fetched = h.writer.resume("r_1", 1)
    h.writer.send_event(event(3))  # live, raced the fetch
    fetched.set_result([event(2), event(3)])
    h.writer.send_event(event(3))  # a late duplicate
    h.writer.send(b"pong")
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.ws.sent == [b"r_1:1:a", b"r_1:1:b", b"r_1:2:a", b"r_1:2:b", b"r_1:3:a",
                         b"r_1:3:b", b"pong"]
    assert h.writer.queued == (0, 0)  # the bytes of both frames were counted and released


async def test_one_frame_larger_than_the_byte_bound_is_taken_when_nothing_waits() -> None:
    h = Harness(max_frames=1000, max_bytes=1000, close_timeout_s=0.05)
    h.ws.gate.clear()
    h.ws.backlog_bytes = 1  # the peer is behind: past the bound it would be given up on
    h.writer.send(b"held")
    await eventually(lambda: h.writer.queued == (0, 0))  # the writer holds it, stuck
    h.writer.send_event(event(1, size=3000))  # 3 kB on its own: the only way it can go
    assert not h.writer.gave_up
    assert h.writer.queued[1] > 1000
    h.writer.send(b"x")  # anything on top of it is too much
    assert h.writer.gave_up


async def test_the_runs_a_peer_remembers_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "MAX_TRACKED_RUNS", 3)
    h = Harness(max_frames=100)
    for n in range(10):
        h.writer.send_event(event(1, run_id=f"r_{n}"))
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert len(h.ws.sent) == 10
    assert h.writer.tracked_runs == 3
    assert MAX_TRACKED_RUNS == 1024  # the real bound


async def test_a_gap_is_refilled_from_the_run_log_in_order() -> None:
    log = RunLog(*(event(seq) for seq in range(1, 6)))
    h = Harness(run_log=log)
    h.writer.send_event(event(1))
    h.writer.send_event(event(4))  # the bus lost 2 and 3
    h.writer.send_event(event(5))
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.seqs() == [("r_1", n) for n in range(1, 6)]
    assert log.asked == [("r_1", 1)]


async def test_a_followed_run_is_refilled_from_its_position() -> None:
    log = RunLog(*(event(seq) for seq in range(1, 4)))
    h = Harness(run_log=log)
    h.writer.follow("r_1", 1)  # the client has seq 1
    h.writer.send_event(event(3))
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.seqs() == [("r_1", 2), ("r_1", 3)]


async def test_a_run_first_seen_mid_way_is_not_refilled() -> None:
    log = RunLog(*(event(seq) for seq in range(1, 4)))
    h = Harness(run_log=log)
    h.writer.send_event(event(3))  # this peer joined after the run began
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.seqs() == [("r_1", 3)]
    assert log.asked == []


async def test_a_failed_refill_leaves_the_gap_and_the_stream_goes_on() -> None:
    class DownLog(RunLog):
        async def replay(self, run_id: str, after_seq: int) -> list[RunEvent]:
            raise ConnectionError("bus down")

    h = Harness(run_log=DownLog())
    h.writer.send_event(event(1))
    h.writer.send_event(event(3))
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.seqs() == [("r_1", 1), ("r_1", 3)]


async def test_the_stream_ends_after_the_last_event_of_its_run() -> None:
    log = RunLog(event(1), event(2), event(3, "agent_completed"))
    h = Harness(run_log=log)
    h.writer.follow("r_1", 0)
    h.writer.end_with("r_1")
    h.writer.send_event(event(1, run_id="r_2"))  # another run's end is not this stream's
    h.writer.send_event(event(2, "agent_completed", run_id="r_2"))
    h.writer.refill("r_1")  # the log holds the whole run
    assert await h.writer.wait_ended(5)
    assert h.seqs()[-1] == ("r_1", 3)
    assert h.ws.close_args == (1000, "")
    assert h.writer.state is DeliveryState.ENDED


async def test_a_peer_that_takes_no_bytes_between_two_checks_is_given_up() -> None:
    h = Harness(close_timeout_s=0.05)
    h.ws.gate.clear()
    h.ws.backlog_bytes = 100
    h.writer.send(b"keep-alive")
    await eventually(lambda: h.writer.queued == (0, 0))
    assert not h.writer.check_stalled()  # the first check: it may still read
    assert h.writer.check_stalled()  # nothing taken since: it is dropped
    assert h.released == 1
    await h.writer.wait_closed()
    assert h.ws.aborted


async def test_a_peer_that_takes_bytes_slowly_is_not_stalled() -> None:
    h = Harness()
    h.ws.gate.clear()  # one write that takes long
    h.ws.backlog_bytes = 1000
    h.writer.send(b"large")
    await eventually(lambda: h.writer.queued == (0, 0))
    for _ in range(3):
        assert not h.writer.check_stalled()
        h.ws.backlog_bytes -= 100  # the peer reads a little between checks
    assert h.writer.state is DeliveryState.OPEN


async def test_the_writer_checks_for_a_stall_by_itself() -> None:
    h = Harness(close_timeout_s=0.05, stall_check_s=0.02)
    h.ws.gate.clear()
    h.ws.backlog_bytes = 100
    h.writer.send(b"never taken")
    await eventually(lambda: h.writer.gave_up, within=5)
    assert h.released == 1
    await h.writer.wait_closed()


async def test_a_discarded_delivery_writes_nothing_more_and_closes_nothing() -> None:
    h = Harness()
    h.ws.gate.clear()
    h.writer.send(b"a")
    h.writer.send(b"b")
    h.writer.discard()
    await h.writer.wait_closed()
    assert h.ws.sent == [] and h.ws.close_args is None and not h.ws.aborted
    assert h.writer.queued == (0, 0) and h.released == 0


async def test_a_peer_whose_transport_is_gone_has_left_and_is_not_slow() -> None:
    h = Harness()
    h.ws.gone = True
    assert h.writer.check_stalled()
    assert h.writer.peer_left and not h.writer.gave_up and h.released == 0
    await h.writer.wait_closed()


async def test_frames_queued_together_share_one_write() -> None:
    h = Harness()
    for seq in range(1, 7):  # a run's burst, queued before the writer has its turn
        h.writer.send_event(event(seq))
    await eventually(lambda: len(h.ws.sent) == 6)
    assert h.ws.writes == [6]
    h.writer.send(b"pong")  # later frames are a write of their own
    await eventually(lambda: len(h.ws.sent) == 7)
    assert h.ws.writes == [6, 1]
    assert h.writer.chunks_written == 7


async def test_frames_before_a_gap_go_out_before_its_refill() -> None:
    h = Harness(run_log=RunLog(event(1), event(2), event(3), event(4)))
    h.writer.follow("r_1", 0)
    h.writer.send_event(event(1))
    h.writer.send_event(event(2))
    h.writer.send_event(event(4))  # 3 is missing: fetched from the run log
    await eventually(lambda: len(h.ws.sent) == 4)
    assert h.seqs() == [("r_1", 1), ("r_1", 2), ("r_1", 3), ("r_1", 4)]
    assert h.ws.writes[0] == 2  # the two before the gap, together
