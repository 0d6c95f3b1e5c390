"""`SocketWriter`: one socket's bounded send queue and the ONE task that drains it.

Sending never blocks: frames are appended to a queue bounded in frames and in bytes. A peer
that does not read fills it, and the server gives up on it: the queue is dropped at once,
the socket's slot is released (`on_give_up`), and the socket gets a close frame with a
timeout, then its transport is aborted, so nothing of it outlives the close timeout.

A burst that outgrows the bounds before the writer had its turn does not make a peer slow:
past the bounds the server gives up only when the transport holds bytes the kernel would not
take (the peer is behind), or when the queue reaches `HARD_LIMIT_FACTOR` times the bounds.

The bus hands each `(run_id, seq)` to a socket once. What the writer adds is the seam of a
resume: it remembers the last `seq` it wrote of each run, so live events queued behind a
replay that the replay already wrote are skipped, and no event shows twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Final

from aiohttp import WSCloseCode, WSMsgType, web

from toolwire.services.events import RunEvent

log = logging.getLogger(__name__)

SLOW_CONSUMER: Final = "slow consumer"
MAX_TRACKED_RUNS: Final = 1024  # runs whose last written seq a socket remembers
HARD_LIMIT_FACTOR: Final = 4
_TEXT: Final = WSMsgType.TEXT

# data (several frames for one event in AG-UI), run_id (None: not a run event), seq
_Frame = tuple[bytes | tuple[bytes, ...], str | None, int]
Render = Callable[[RunEvent], tuple[bytes, ...]]


class _Replay:
    """A resume: the fetched events of one run, written in order once they arrive."""

    __slots__ = ("after_seq", "events", "run_id")

    def __init__(self, run_id: str, after_seq: int, events: asyncio.Future[list[RunEvent]]):
        self.run_id = run_id
        self.after_seq = after_seq
        self.events = events


class _Close:
    """Close the socket once everything queued before it is written."""

    __slots__ = ("code", "message")

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message


class SocketWriter:
    """Bounded queue plus writer task for one `WebSocketResponse`."""

    __slots__ = ("_bytes", "_close_timeout_s", "_closer", "_frames", "_log_extra",
                 "_max_bytes", "_max_frames", "_on_give_up", "_queue", "_render", "_state",
                 "_task", "_transport", "_wakeup", "_written", "_ws")

    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        max_frames: int,
        max_bytes: int,
        close_timeout_s: float,
        transport: Callable[[], asyncio.Transport | None],
        on_give_up: Callable[[], None],
        log_extra: dict[str, str],
        render: Render | None = None,
    ) -> None:
        self._ws = ws
        self._render = render  # None: an event is its shared toolwire encoding
        self._max_frames = max_frames
        self._max_bytes = max_bytes
        self._close_timeout_s = close_timeout_s
        self._transport = transport
        self._on_give_up = on_give_up
        self._log_extra = log_extra
        self._queue: deque[_Frame | _Replay | _Close] = deque()
        self._frames = 0
        self._bytes = 0
        self._written: dict[str, int] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._state = "open"  # open -> closing (a close is queued) | gave_up

    @property
    def gave_up(self) -> bool:
        """Return True once the server gave up on this socket (slow consumer)."""
        return self._state == "gave_up"

    @property
    def queued(self) -> tuple[int, int]:
        """Return how many frames and bytes wait to be written."""
        return self._frames, self._bytes

    def start(self, name: str) -> None:
        """Start the writer task (after the upgrade)."""
        self._task = asyncio.get_running_loop().create_task(self._drain(), name=name)

    def send(self, data: bytes) -> None:
        """Queue a frame that is not a run event (`pong`, `error`)."""
        self._enqueue((data, None, 0), len(data))

    def send_event(self, event: RunEvent) -> None:
        """Queue a run event (its shared encoding: no copy per socket)."""
        if self._render is None:
            data = event.encoded()
            self._enqueue((data, event.run_id, event.seq), len(data))
        else:
            frames = self._render(event)
            self._enqueue((frames, event.run_id, event.seq), sum(map(len, frames)))

    def replay(self, run_id: str, after_seq: int) -> asyncio.Future[list[RunEvent]]:
        """Queue a resume of `run_id`; the caller fulfils the returned future with its events.

        Live events of the run that arrive meanwhile queue up behind it; whichever of them
        the replay already wrote are dropped.
        """
        events: asyncio.Future[list[RunEvent]] = asyncio.get_running_loop().create_future()
        self._enqueue(_Replay(run_id, after_seq, events), 0)
        return events

    def close(self, code: int, message: str) -> None:
        """Close after the frames already queued are written."""
        if self._state == "open":
            self._state = "closing"
            self._queue.append(_Close(code, message))
            self._wakeup.set()

    def give_up(self, code: int = WSCloseCode.POLICY_VIOLATION,
                reason: str = SLOW_CONSUMER) -> None:
        """Drop the queue and the slot now; close with a timeout, then abort the transport."""
        if self._state == "gave_up":
            return
        self._state = "gave_up"
        self._queue.clear()
        self._frames = self._bytes = 0
        self._written.clear()
        log.warning("closing the socket: %s", reason, extra=self._log_extra)
        self._on_give_up()
        self._closer = asyncio.get_running_loop().create_task(
            self._close_now(code, reason), name="ws-closer")

    async def wait_closed(self) -> None:
        """Wait until the socket is closed: at most the close timeout, then abort it."""
        tasks = [task for task in (self._task, self._closer) if task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self._close_timeout_s)
            if pending:
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending)
                self._abort()
        elif not self._ws.closed:
            self._abort()

    def _enqueue(self, item: _Frame | _Replay, size: int) -> None:
        if self._state != "open":
            return
        frames, size_after = self._frames + 1, self._bytes + size
        if (frames > self._max_frames or size_after > self._max_bytes) and self._frames:
            hard = (frames > HARD_LIMIT_FACTOR * self._max_frames
                    or size_after > HARD_LIMIT_FACTOR * self._max_bytes)
            if hard or self._peer_is_behind():
                self.give_up()
                return
        self._queue.append(item)
        self._frames += 1
        self._bytes += size
        self._wakeup.set()

    async def _drain(self) -> None:
        try:
            await self._write_queued()
        except (ConnectionError, RuntimeError):
            pass  # the peer is gone; the reader loop ends the handler
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the socket writer failed", extra=self._log_extra)
            self.give_up(WSCloseCode.INTERNAL_ERROR, "internal error")

    async def _write_queued(self) -> None:
        queue = self._queue
        send = self._ws.send_frame
        while True:
            if not queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            item = queue.popleft()
            if type(item) is tuple:
                data, run_id, seq = item
                self._frames -= 1
                if isinstance(data, bytes):
                    self._bytes -= len(data)
                    if run_id is not None:
                        if seq <= self._written.get(run_id, 0):
                            continue
                        self._note_written(run_id, seq)
                    await send(data, _TEXT)
                else:
                    await self._write_frames(data, run_id, seq)
            elif type(item) is _Replay:
                self._frames -= 1
                await self._write_replay(item)
            else:
                assert type(item) is _Close
                await self._close(item.code, item.message)
                return

    async def _write_replay(self, replay: _Replay) -> None:
        try:
            events = await replay.events
        except Exception:
            return  # the reader reported it to the client
        last = replay.after_seq
        for event in events:
            if event.seq <= last:
                continue
            if self._render is None:
                await self._ws.send_frame(event.encoded(), _TEXT)
            else:
                for frame in self._render(event):
                    await self._ws.send_frame(frame, _TEXT)
            last = event.seq
        if last > self._written.get(replay.run_id, 0):
            self._note_written(replay.run_id, last)

    async def _write_frames(self, frames: tuple[bytes, ...], run_id: str | None,
                            seq: int) -> None:
        self._bytes -= sum(map(len, frames))
        if run_id is not None:
            if seq <= self._written.get(run_id, 0):
                return
            self._note_written(run_id, seq)
        for frame in frames:
            await self._ws.send_frame(frame, _TEXT)

    def _peer_is_behind(self) -> bool:
        transport = self._transport()
        return transport is None or transport.get_write_buffer_size() > 0

    def _abort(self) -> None:
        transport = self._transport()
        if transport is not None:
            transport.abort()

    def _note_written(self, run_id: str, seq: int) -> None:
        written = self._written
        written.pop(run_id, None)  # re-insert: the dict stays ordered by last write
        written[run_id] = seq
        if len(written) > MAX_TRACKED_RUNS:
            del written[next(iter(written))]

    async def _close_now(self, code: int, reason: str) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()  # safe at any await: aiohttp writes each frame whole before one
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close(code, reason)

    async def _close(self, code: int, message: str) -> None:
        """Send a close frame and wait for the peer's, within the timeout; else abort."""
        try:
            async with asyncio.timeout(self._close_timeout_s):
                await self._ws.close(code=code, message=message.encode())
        except (TimeoutError, ConnectionError, RuntimeError):
            self._abort()
