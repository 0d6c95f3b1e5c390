"""`Connection`: one socket's state, a bounded send buffer and the ONE task that writes it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from aiohttp import WSCloseCode, web

from toolwire.services.context import new_id
from toolwire.services.events import RunEvent

log = logging.getLogger(__name__)

SLOW_CONSUMER: Final = "slow consumer"
CLOSE_TIMEOUT_S: Final = 5.0
FINISH_FRAME_S: Final = 1.0  # how long a slow consumer's writer may finish its current frame


def json_frames(event: RunEvent) -> tuple[str]:
    """Return the one frame of `event` in the toolwire protocol: its JSON envelope."""
    return (event.to_json(),)


@dataclass(frozen=True, slots=True)
class _Close:
    code: int
    message: str


@dataclass(slots=True, eq=False)
class _Replay:
    """One resume of one run: the replayed events, then the live ones held behind them."""

    run_id: str
    events: deque[RunEvent] = field(default_factory=deque)
    fetched: bool = False
    high: int = 0  # the last seq queued, once fetched
    replayed_to: int = 0  # the last seq that came from the bus rather than live
    held_live: int = 0  # live events queued and not yet written
    finished: bool = False

    def add(self, event: RunEvent) -> None:
        self.events.append(event)
        self.high = max(self.high, event.seq)
        self.finished = self.finished or event.type == "agent_completed"


class Connection:
    """Per-socket state; `send`/`deliver` never block, the writer task drains the buffer.

    Past `max_queued` frames the socket is closed 1008 "slow consumer"; the runs go on.
    A resume is one buffer item that the writer drains with the socket's own backpressure,
    so a replay longer than `max_queued` is paced, not refused; the run's live events wait
    behind it and count against `max_queued`.
    """

    __slots__ = ("__weakref__", "_buffer", "_closer", "_first_events", "_high_water",
                 "_max_queued", "_render", "_replaying", "_wakeup", "_writer", "connection_id",
                 "user_id", "ws")

    def __init__(self, ws: web.WebSocketResponse, user_id: str, *, max_queued: int,
                 render: Callable[[RunEvent], Sequence[str]] | None = None) -> None:
        self.ws = ws
        self._render = render or json_frames  # an event's text frames (several for AG-UI)
        self.user_id = user_id
        self.connection_id = new_id("w")
        self._max_queued = max_queued
        self._buffer: deque[str | _Replay | _Close] = deque()
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._high_water: dict[str, int] = {}
        self._first_events: dict[str, asyncio.Future[None]] = {}
        self._replaying: dict[str, _Replay] = {}

    @property
    def closing(self) -> bool:
        """Return True once a close was requested or the socket closed."""
        return self._closer is not None or self.ws.closed or any(
            isinstance(item, _Close) for item in self._buffer)

    @property
    def slow_consumer(self) -> bool:
        """Return True once the server chose to close this socket as a slow consumer."""
        return self._closer is not None

    def start(self) -> None:
        """Start the writer task (after the upgrade)."""
        self._writer = asyncio.get_running_loop().create_task(
            self._write_loop(), name=f"ws-writer-{self.connection_id}")

    def send(self, frame: str) -> None:
        """Queue one text frame; close the socket 1008 when the buffer is full."""
        self._enqueue(frame)

    def deliver(self, event: RunEvent) -> None:
        """Bus callback: queue `event` unless this socket already sent it (resume seam)."""
        if self._first_events:
            self._note_first_event(event.run_id)
        if self._closer is not None:
            return
        replay = self._replaying.get(event.run_id)
        if replay is not None:
            self._hold(replay, event)
            return
        high = self._high_water.get(event.run_id)
        if high is not None:
            if event.seq <= high:
                return
            self._track(event)
        for frame in self._render(event):
            self.send(frame)

    def expect_run(self, run_id: str) -> asyncio.Future[None]:
        """Return a future that is done once an event of `run_id` reached this socket."""
        waiter = asyncio.get_running_loop().create_future()
        self._first_events[run_id] = waiter
        return waiter

    def forget_run(self, run_id: str) -> None:
        """Stop watching for the first event of `run_id`."""
        self._first_events.pop(run_id, None)

    def _note_first_event(self, run_id: str) -> None:
        waiter = self._first_events.pop(run_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def begin_replay(self, run_id: str) -> None:
        """Hold this run's live events until the replay is fetched and written."""
        self._replaying[run_id] = _Replay(run_id)

    def end_replay(self, run_id: str, after_seq: int, replayed: list[RunEvent]) -> None:
        """Queue `replayed` then the held live events, each `seq` once and in order."""
        replay = self._replaying.get(run_id)
        if replay is None or self._closer is not None:
            return
        held = list(replay.events)
        replay.events.clear()
        replay.replayed_to = max((e.seq for e in replayed), default=after_seq)
        replay.high = after_seq
        for event in sorted([*replayed, *held], key=lambda e: e.seq):
            if event.seq > replay.high:
                replay.add(event)
        replay.held_live = sum(1 for e in replay.events if e.seq > replay.replayed_to)
        replay.fetched = True
        self._enqueue(replay)

    def _hold(self, replay: _Replay, event: RunEvent) -> None:
        if replay.fetched and event.seq <= replay.high:
            return
        if replay.held_live >= self._max_queued:
            self._close_slow()
            return
        replay.add(event)
        replay.held_live += 1

    def _finish_replay(self, replay: _Replay) -> None:
        """The replay is written: from now on this run's live events go out directly."""
        if self._replaying.get(replay.run_id) is not replay:
            return  # a later resume of the same run took over
        del self._replaying[replay.run_id]
        if not replay.finished:
            self._high_water[replay.run_id] = replay.high

    def _track(self, event: RunEvent) -> None:
        if event.type == "agent_completed":
            self._high_water.pop(event.run_id, None)
        else:
            self._high_water[event.run_id] = event.seq

    def _enqueue(self, item: str | _Replay) -> None:
        if self._closer is not None:
            return
        if len(self._buffer) >= self._max_queued:
            self._close_slow()
            return
        self._buffer.append(item)
        self._wakeup.set()

    def close(self, code: int, message: str) -> None:
        """Close after the frames already queued are written."""
        if self._closer is None:
            self._buffer.append(_Close(code, message))
            self._wakeup.set()

    async def wait_closed(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Wait (bounded) until the writer finished; cancel it past the timeout."""
        tasks = [t for t in (self._writer, self._closer) if t is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop(self) -> None:
        """Stop the writer (the sentinel ends it after what is queued) and wait for it."""
        if self._closer is None:
            self.close(WSCloseCode.OK, "")
        await self.wait_closed()

    def _close_slow(self) -> None:
        self._buffer.clear()
        self._replaying.clear()
        log.warning("closing a slow consumer", extra={"user_id": self.user_id})
        self._closer = asyncio.get_running_loop().create_task(
            self._close_after_current_frame(), name=f"ws-closer-{self.connection_id}")
        self._wakeup.set()

    async def _close_after_current_frame(self) -> None:
        """Let the writer finish the frame it is on, then close 1008.

        Cutting a frame short would corrupt the stream and the peer would never see the close
        code; a peer that reads nothing for `FINISH_FRAME_S` is cut off regardless.
        """
        writer = self._writer
        if writer is not None and not writer.done():
            _, pending = await asyncio.wait({writer}, timeout=FINISH_FRAME_S)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._close_ws(_Close(WSCloseCode.POLICY_VIOLATION, SLOW_CONSUMER))

    async def _write_loop(self) -> None:
        while True:
            while not self._buffer:
                if self._closer is not None:
                    return  # closing as a slow consumer: the closer sends the close frame
                self._wakeup.clear()
                await self._wakeup.wait()
            if self._closer is not None:
                return
            item = self._buffer.popleft()
            if isinstance(item, _Close):
                await self._close_ws(item)
                return
            sent = await self._write_replay(item) if isinstance(item, _Replay) else (
                await self._write(item))
            if not sent:
                return  # the peer is gone; the reader loop ends the handler

    async def _write_replay(self, replay: _Replay) -> bool:
        """Write the replay frame by frame (the socket's drain paces it), then go live."""
        while replay.events:
            if self._closer is not None:
                return False
            event = replay.events.popleft()
            if event.seq > replay.replayed_to:
                replay.held_live -= 1
            for frame in self._render(event):
                if not await self._write(frame):
                    return False
        self._finish_replay(replay)
        return True

    async def _write(self, frame: str) -> bool:
        try:
            await self.ws.send_str(frame)
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def _close_ws(self, item: _Close) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self.ws.close(code=item.code, message=item.message.encode())
        except (TimeoutError, ConnectionError, RuntimeError):
            pass  # aiohttp has dropped the transport; nothing more to say to this peer
