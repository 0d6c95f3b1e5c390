"""`Connection`: bounded buffer, one writer, slow-consumer close and the resume seam."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from toolwire.adapters.web.connection import SLOW_CONSUMER, Connection
from toolwire.services.events import RunEvent


class FakeSocket:
    """Records frames and the close; `gate` holds every send until set."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.close_args: tuple[int, bytes] | None = None
        self.gate = asyncio.Event()
        self.gate.set()

    @property
    def closed(self) -> bool:
        return self.close_args is not None

    async def send_str(self, data: str) -> None:
        await self.gate.wait()
        self.sent.append(data)

    async def close(self, *, code: int, message: bytes) -> bool:
        self.close_args = (code, message)
        return True


def _conn(max_queued: int = 8) -> tuple[Connection, FakeSocket]:
    ws = FakeSocket()
    conn = Connection(ws, "ada", max_queued=max_queued)  # type: ignore[arg-type]
    conn.start()
    return conn, ws


def _event(seq: int, kind: Any = "agent_thinking", run_id: str = "r_1") -> RunEvent:
    return RunEvent(kind, run_id, "t_1", seq, "2026-01-01T00:00:00.000000Z", {})


async def _until(predicate: Any) -> None:
    async with asyncio.timeout(2):
        while True:
            if predicate():
                return
            await asyncio.sleep(0)


async def test_frames_are_written_in_order_then_closed_by_stop() -> None:
    conn, ws = _conn()
    for n in range(5):
        conn.send(str(n))
    await conn.stop()
    assert ws.sent == ["0", "1", "2", "3", "4"]
    assert ws.close_args is not None


async def test_a_full_buffer_closes_1008_slow_consumer_without_blocking() -> None:
    conn, ws = _conn(max_queued=1)
    ws.gate.clear()  # the peer reads nothing
    conn.send("a")
    await _until(lambda: not conn._buffer)  # the writer holds "a" and is stuck
    conn.send("b")
    conn.send("c")  # over the bound: returns at once and closes
    await conn.wait_closed()
    assert ws.close_args == (1008, SLOW_CONSUMER.encode())
    assert conn.closing
    conn.send("d")  # ignored after the close
    assert ws.sent == []


async def test_replay_and_held_live_events_are_sent_once_in_order() -> None:
    conn, ws = _conn()
    conn.begin_replay("r_1")
    conn.deliver(_event(4))  # live events that race the replay fetch
    conn.deliver(_event(5))
    conn.end_replay("r_1", 2, [_event(3), _event(4)])
    conn.deliver(_event(5))  # a late duplicate is dropped
    conn.deliver(_event(6, "agent_completed"))
    conn.deliver(_event(1, run_id="r_2"))  # other runs are untouched
    await conn.stop()
    assert [(json.loads(f)["run_id"], json.loads(f)["seq"]) for f in ws.sent] == [
        ("r_1", 3), ("r_1", 4), ("r_1", 5), ("r_1", 6), ("r_2", 1)]
