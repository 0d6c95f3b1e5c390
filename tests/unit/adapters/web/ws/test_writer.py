"""`SocketWriter`: bounded queue, one writer, giving up on slow peers, the resume seam."""

from __future__ import annotations

import asyncio
import json

from aiohttp import WSMsgType

from tests.support import eventually
from toolwire.adapters.web.ws.writer import SLOW_CONSUMER, Render, SocketWriter
from toolwire.services.events import EventType, RunEvent


class FakeTransport:
    """What the writer asks of a transport: its backlog, and to be aborted."""

    def __init__(self) -> None:
        self.backlog = 0
        self.aborted = False

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def abort(self) -> None:
        self.aborted = True


class FakeSocket:
    """Records frames and the close; `gate` holds every send (and the close) until set."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.close_args: tuple[int, bytes] | None = None
        self.gate = asyncio.Event()
        self.gate.set()

    @property
    def closed(self) -> bool:
        return self.close_args is not None

    async def send_frame(self, data: bytes, opcode: WSMsgType) -> None:
        assert opcode is WSMsgType.TEXT
        await self.gate.wait()
        self.sent.append(data)

    async def close(self, *, code: int, message: bytes) -> bool:
        await self.gate.wait()
        self.close_args = (code, message)
        return True


class Harness:
    def __init__(self, *, max_frames: int = 8, max_bytes: int = 1 << 20,
                 close_timeout_s: float = 5.0, render: Render | None = None) -> None:
        self.ws = FakeSocket()
        self.transport = FakeTransport()
        self.released = 0
        self.writer = SocketWriter(
            self.ws,  # type: ignore[arg-type]
            max_frames=max_frames, max_bytes=max_bytes, close_timeout_s=close_timeout_s,
            transport=lambda: self.transport,  # type: ignore[arg-type, return-value]
            on_give_up=self.release, log_extra={"user_id": "ada"}, render=render)
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
    assert h.ws.close_args == (1000, b"")
    assert h.released == 0


async def test_a_peer_that_reads_nothing_is_given_up_and_its_slot_freed_at_once() -> None:
    h = Harness(max_frames=2, close_timeout_s=0.05)
    h.ws.gate.clear()  # the peer reads nothing
    h.transport.backlog = 1  # and the kernel holds bytes it would not take
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
    h.transport.backlog = 1
    for frame in (b"a", b"b", b"c"):
        h.writer.send(frame)
    await h.writer.wait_closed()
    assert h.writer.gave_up and h.transport.aborted
    assert h.ws.close_args is None  # the close never completed: the transport was cut


async def test_the_byte_bound_counts_bytes_not_frames() -> None:
    h = Harness(max_frames=1000, max_bytes=1000, close_timeout_s=0.05)
    h.ws.gate.clear()
    h.transport.backlog = 1
    h.writer.send_event(event(1, size=600))
    await eventually(lambda: h.writer.queued == (0, 0))
    h.writer.send_event(event(2, size=600))
    assert not h.writer.gave_up  # one frame may exceed the bound on its own
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
    fetched = h.writer.replay("r_1", 0)
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
    fetched = h.writer.replay("r_1", 0)
    h.writer.send(b'{"type":"pong"}')
    fetched.set_exception(ConnectionError("bus down"))
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.ws.sent == [b'{"type":"pong"}']


async def test_the_slow_consumer_close_carries_its_reason() -> None:
    h = Harness(max_frames=1)
    h.transport.backlog = 1
    h.ws.gate.clear()
    for frame in (b"a", b"b", b"c"):
        h.writer.send(frame)
    h.ws.gate.set()  # the peer finally reads: it gets the close frame
    await h.writer.wait_closed()
    assert h.ws.close_args == (1008, SLOW_CONSUMER.encode())


async def test_a_rendered_event_is_written_as_all_its_frames_and_once() -> None:
    h = Harness(render=lambda e: (b"%s:%d:a" % (e.run_id.encode(), e.seq),
                                  b"%s:%d:b" % (e.run_id.encode(), e.seq)))
    h.writer.send_event(event(1))
    fetched = h.writer.replay("r_1", 1)
    h.writer.send_event(event(3))  # live, raced the fetch
    fetched.set_result([event(2), event(3)])
    h.writer.send_event(event(3))  # a late duplicate
    h.writer.send(b"pong")
    h.writer.close(1000, "")
    await h.writer.wait_closed()
    assert h.ws.sent == [b"r_1:1:a", b"r_1:1:b", b"r_1:2:a", b"r_1:2:b", b"r_1:3:a",
                         b"r_1:3:b", b"pong"]
    assert h.writer.queued == (0, 0)  # the bytes of both frames were counted and released
