"""`Delivery`: one peer's bounded queue of server frames and the ONE task that writes it.

Every streaming transport (a toolwire WebSocket, an AG-UI WebSocket, an AG-UI SSE stream)
delivers through it; what differs is the `Sink` (how bytes reach the peer) and the renderer
(which bytes an event becomes).

- Sending never blocks: chunks are appended to a queue bounded in frames and in bytes. A
  peer that does not read fills it and the server gives up on it: the queue is dropped at
  once, the peer's slot is released (`on_give_up`), the sink is closed within the close
  timeout and its transport aborted past it. A burst that outgrows the bounds before the
  writer had its turn does not make a peer slow: past the bounds the server gives up only
  when the transport holds bytes the kernel would not take (checked again `RECHECK_S`
  later while the queue stays past them), or at `HARD_LIMIT_FACTOR` times the bounds. One
  chunk larger than the byte bound is taken when nothing else waits. A peer that takes no
  bytes at all between two stall checks (`stall_check_s` apart) while bytes wait for it is
  given up on too, however little waits: what the kernel and the transport buffer hold is
  not in the queue's count.
- Each run event is written once: the pipeline remembers the last `seq` it wrote of each run
  (`MAX_TRACKED_RUNS` runs at most) and drops repeats.
- A gap is refilled: a live event whose `seq` skips past the last one written of its run is
  preceded by the missing events, fetched from the run log.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Final

from toolwire.adapters.web.delivery.sink import Render, Replay, Sink
from toolwire.services.events import RunEvent

log = logging.getLogger(__name__)

SLOW_CONSUMER: Final = "slow consumer"
MAX_TRACKED_RUNS: Final = 1024  # runs whose last written seq a peer remembers
HARD_LIMIT_FACTOR: Final = 4
FLUSH_POLL_S: Final = 0.05  # how often a closing stream looks whether the peer took the rest
RECHECK_S: Final = 1.0  # a queue past its bounds is looked at again this much later
POLICY_VIOLATION: Final = 1008  # the WebSocket close code of a slow consumer
INTERNAL_ERROR: Final = 1011
NORMAL: Final = 1000
RUN_END: Final = "agent_completed"


class DeliveryState(enum.Enum):
    """Where a delivery is in its life."""

    OPEN = "open"  # taking frames
    CLOSING = "closing"  # a close is queued behind the frames already taken
    GAVE_UP = "gave_up"  # a slow consumer: queue dropped, slot released, sink being closed
    ENDED = "ended"  # the writer is done: the stream was closed, or the peer went away


# Module constants: an enum member lookup costs ~60 ns each, and a socket checks its state on
# every frame it is given.
_OPEN: Final = DeliveryState.OPEN
_CLOSING: Final = DeliveryState.CLOSING
_GAVE_UP: Final = DeliveryState.GAVE_UP
_ENDED: Final = DeliveryState.ENDED


class _Resume:
    """A resume: the events of one run after `after_seq`, written once they are fetched."""

    __slots__ = ("after_seq", "events", "run_id")

    def __init__(self, run_id: str, after_seq: int, events: asyncio.Future[list[RunEvent]]):
        self.run_id = run_id
        self.after_seq = after_seq
        self.events = events


class _Refill:
    """Fetch and write what the run log holds of `run_id` past the last seq written."""

    __slots__ = ("run_id",)

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id


class _Close:
    """Close the sink once everything queued before it is written."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


# the chunks to write, and the run event they render (None: not a run event)
_Chunks = tuple[tuple[bytes, ...], RunEvent | None]
_Item = _Chunks | _Resume | _Refill | _Close


class Delivery:
    """Bounded queue plus writer task for one peer."""

    __slots__ = ("_bytes", "_close_timeout_s", "_closer", "_end_with_run", "_frames",
                 "_log_extra", "_max_bytes", "_max_frames", "_on_give_up", "_peer_left",
                 "_queue", "_recheck", "_render", "_replay", "_sink", "_stall_check_s",
                 "_stall_mark", "_stall_timer", "_state",
                 "_task", "_wakeup", "_writes", "_written")

    def __init__(
        self,
        sink: Sink,
        *,
        render: Render,
        replay: Replay,
        max_frames: int,
        max_bytes: int,
        close_timeout_s: float,
        on_give_up: Callable[[], None],
        log_extra: dict[str, str],
        stall_check_s: float,
    ) -> None:
        self._sink = sink
        self._render = render
        self._replay = replay
        self._max_frames = max_frames
        self._max_bytes = max_bytes
        self._close_timeout_s = close_timeout_s
        self._on_give_up = on_give_up
        self._log_extra = log_extra
        self._end_with_run: str | None = None  # close once this run's last event is written
        self._queue: deque[_Item] = deque()
        self._frames = 0
        self._bytes = 0
        self._written: dict[str, int] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._recheck: asyncio.TimerHandle | None = None
        self._state = _OPEN
        self._peer_left = False
        self._writes = 0  # chunks written so far
        self._stall_check_s = stall_check_s
        self._stall_timer: asyncio.TimerHandle | None = None
        # chunks written and bytes the transport held at the last stall check
        self._stall_mark: tuple[int, int] | None = None

    @property
    def state(self) -> DeliveryState:
        """Return where the delivery is."""
        return self._state

    @property
    def gave_up(self) -> bool:
        """Return True once the server gave up on this peer (slow consumer)."""
        return self._state is _GAVE_UP

    @property
    def peer_left(self) -> bool:
        """Return True when the peer went away while the server was still writing to it."""
        return self._peer_left

    @property
    def queued(self) -> tuple[int, int]:
        """Return how many frames and bytes wait to be written."""
        return self._frames, self._bytes

    @property
    def chunks_written(self) -> int:
        """Return how many chunks the peer's transport has taken so far."""
        return self._writes

    @property
    def tracked_runs(self) -> int:
        """Return how many runs' last written `seq` the delivery remembers."""
        return len(self._written)

    def start(self, name: str) -> None:
        """Start the writer task (once the transport is ready) and its stall checks."""
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._drain(), name=name)
        self._stall_timer = loop.call_later(self._stall_check_s, self._on_stall_timer)

    def _on_stall_timer(self) -> None:
        self._stall_timer = None
        if not self.check_stalled() and self._task is not None and not self._task.done():
            self._stall_timer = asyncio.get_running_loop().call_later(
                self._stall_check_s, self._on_stall_timer)

    def follow(self, run_id: str, after_seq: int) -> None:
        """Treat `run_id` as written up to `after_seq`: earlier events are repeats, a later
        first event is a gap to refill."""
        self._note_written(run_id, after_seq)

    def end_with(self, run_id: str) -> None:
        """Close the stream once the last event (`agent_completed`) of `run_id` is written."""
        self._end_with_run = run_id

    def send(self, data: bytes) -> None:
        """Queue a chunk that is not a run event (`pong`, `error`, a keep-alive)."""
        self._enqueue(((data,), None), len(data))

    def send_event(self, event: RunEvent) -> None:
        """Queue a run event as the protocol renders it."""
        chunks = self._render(event)
        self._enqueue((chunks, event), sum(map(len, chunks)))

    def resume(self, run_id: str, after_seq: int) -> asyncio.Future[list[RunEvent]]:
        """Queue a resume of `run_id`; the caller fulfils the returned future with its events.

        Every fetched event after `after_seq` is written, even one written before; live
        events of the run queued behind it that it already wrote are dropped.
        """
        events: asyncio.Future[list[RunEvent]] = asyncio.get_running_loop().create_future()
        self._enqueue(_Resume(run_id, after_seq, events), 0)
        return events

    def refill(self, run_id: str) -> None:
        """Queue a fetch of what the run log holds of `run_id` past the last seq written."""
        self._enqueue(_Refill(run_id), 0)

    def check_stalled(self) -> bool:
        """Give up on a peer that took no bytes since the last check while bytes waited.

        The writer's own timer calls it every `stall_check_s`; return True once the stream
        is over: the peer was given up on, or its transport is gone (`peer_left`).
        """
        if self._state is _GAVE_UP or self._task is None or self._task.done():
            return False
        backlog = self._sink.backlog()
        if backlog is None:
            self._peer_left = True
            self.discard()
            return True
        if backlog == 0:
            self._stall_mark = None
            return False
        mark = (self._writes, backlog)
        if (self._stall_mark is not None and self._stall_mark[0] == self._writes
                and backlog >= self._stall_mark[1]):
            self.give_up()
            return True
        self._stall_mark = mark
        return False

    def close(self, code: int, reason: str) -> None:
        """Close after the chunks already queued are written."""
        if self._state is _OPEN:
            self._state = _CLOSING
            self._queue.append(_Close(code, reason))
            self._wakeup.set()

    def give_up(self, code: int = POLICY_VIOLATION, reason: str = SLOW_CONSUMER) -> None:
        """Drop the queue and the slot now; close within the timeout, then abort."""
        if self._state in (_GAVE_UP, _ENDED):
            return
        self._state = _GAVE_UP
        self._stop_recheck()
        self._queue.clear()
        self._frames = self._bytes = 0
        self._written.clear()
        log.warning("closing the stream: %s", reason, extra=self._log_extra)
        self._on_give_up()
        self._closer = asyncio.get_running_loop().create_task(
            self._close_now(code, reason), name="delivery-closer")

    def discard(self) -> None:
        """Stop at once without closing: the peer left, or the stream never started."""
        if self._state is _GAVE_UP:
            return
        self._state = _ENDED
        self._stop_recheck()
        self._queue.clear()
        self._frames = self._bytes = 0
        if self._task is not None:
            self._task.cancel()

    async def wait_ended(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the writer to end; return True if it has."""
        task = self._task
        if task is None:
            return True
        await asyncio.wait([task], timeout=timeout_s)
        return task.done()

    async def wait_closed(self) -> None:
        """Wait until the stream is closed: at most the close timeout, then abort it."""
        tasks = [task for task in (self._task, self._closer) if task is not None]
        if not tasks:
            return  # never started: there is nothing to close
        _, pending = await asyncio.wait(tasks, timeout=self._close_timeout_s)
        if pending:
            for task in pending:
                task.cancel()
            await asyncio.wait(pending)
            self._sink.abort()

    def _enqueue(self, item: _Item, size: int) -> None:
        if self._state is not _OPEN:
            return
        frames, size_after = self._frames + 1, self._bytes + size
        if (frames > self._max_frames or size_after > self._max_bytes) and self._frames:
            hard = (frames > HARD_LIMIT_FACTOR * self._max_frames
                    or size_after > HARD_LIMIT_FACTOR * self._max_bytes)
            if hard or self._has_backlog():
                self.give_up()
                return
            if self._recheck is None:
                self._recheck = asyncio.get_running_loop().call_later(
                    RECHECK_S, self._check_bounds)
        self._queue.append(item)
        self._frames += 1
        self._bytes += size
        self._wakeup.set()

    def _check_bounds(self) -> None:
        """A queue still past its bounds while the peer is behind: give up on the peer."""
        self._recheck = None
        if self._state is not _OPEN:
            return
        if self._frames > self._max_frames or self._bytes > self._max_bytes:
            if self._has_backlog():
                self.give_up()
            else:
                self._recheck = asyncio.get_running_loop().call_later(
                    RECHECK_S, self._check_bounds)

    def _stop_recheck(self) -> None:
        for timer in (self._recheck, self._stall_timer):
            if timer is not None:
                timer.cancel()
        self._recheck = self._stall_timer = None

    def _has_backlog(self) -> bool:
        backlog = self._sink.backlog()
        return backlog is None or backlog > 0

    async def _drain(self) -> None:
        try:
            await self._write_queued()
        except (ConnectionError, RuntimeError):
            self._peer_left = True  # the transport is gone; the handler ends the stream
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the stream writer failed", extra=self._log_extra)
            self.give_up(INTERNAL_ERROR, "internal error")
        finally:
            if self._state is not _GAVE_UP:
                self._state = _ENDED
                self._stop_recheck()

    async def _write_queued(self) -> None:
        """Write what is queued, in order; the frames that wait together go in one write."""
        queue = self._queue
        batch: list[bytes] = []
        while True:
            if not queue:
                if batch:
                    await self._write(batch)
                    batch = []
                    continue  # more may have been queued meanwhile
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            item = queue.popleft()
            if type(item) is tuple:
                chunks, event = item
                self._frames -= 1
                self._bytes -= sum(map(len, chunks))
                if event is None:
                    batch.extend(chunks)
                    continue
                last = self._written.get(event.run_id)
                if last is not None and event.seq > last + 1:
                    if batch:
                        await self._write(batch)
                        batch = []
                    await self._refill(event.run_id, last, before=event.seq)
                    last = self._written.get(event.run_id)
                if last is not None and event.seq <= last:
                    continue  # written already
                self._note_written(event.run_id, event.seq)
                batch.extend(chunks)
                if self._ends_stream(event):
                    break
                continue
            if batch:  # what came before a resume, refill or close goes out first
                await self._write(batch)
                batch = []
            if type(item) is _Refill:
                self._frames -= 1
                last = self._written.get(item.run_id, 0)
                if await self._refill(item.run_id, last, before=None):
                    break
            elif type(item) is _Resume:
                self._frames -= 1
                if await self._write_resume(item):
                    break
            else:
                assert type(item) is _Close
                await self._close(item.code, item.reason)
                return
        if batch:
            await self._write(batch)
        await self._close(NORMAL, "")

    async def _refill(self, run_id: str, after_seq: int, *, before: int | None) -> bool:
        """Write the logged events of `run_id` after `after_seq` (and before `before`).

        Return True when they ended the stream.
        """
        try:
            events = await self._replay(run_id, after_seq)
        except Exception as exc:  # the bus is down: the stream goes on with the gap
            log.warning("cannot refill a gap from the run log: %s: %s", type(exc).__name__,
                        exc, extra=self._log_extra)
            return False
        for event in events:
            if before is not None and event.seq >= before:
                break
            if event.seq <= self._written.get(run_id, 0):
                continue
            self._note_written(run_id, event.seq)
            await self._write(self._render(event))
            if self._ends_stream(event):
                return True
        return False

    async def _write_resume(self, resume: _Resume) -> bool:
        try:
            events = await resume.events
        except Exception:
            return False  # the reader reported it to the client
        last = resume.after_seq
        for event in events:
            if event.seq <= last:
                continue
            await self._write(self._render(event))
            last = event.seq
            if self._ends_stream(event):
                return True
        if last > self._written.get(resume.run_id, 0):
            self._note_written(resume.run_id, last)
        return False

    async def _write(self, chunks: Sequence[bytes]) -> None:
        if chunks:
            await self._sink.write(chunks)
            self._writes += len(chunks)

    def _ends_stream(self, event: RunEvent) -> bool:
        return event.type == RUN_END and event.run_id == self._end_with_run

    def _note_written(self, run_id: str, seq: int) -> None:
        written = self._written
        written.pop(run_id, None)  # re-insert: the dict stays ordered by last write
        written[run_id] = seq
        if len(written) > MAX_TRACKED_RUNS:
            del written[next(iter(written))]

    async def _close_now(self, code: int, reason: str) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()  # safe at any await: each chunk is handed to the transport whole
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close(code, reason)

    async def _close(self, code: int, reason: str) -> None:
        """End the stream and let the peer take what is left, within the close timeout;
        else abort the transport.

        A closed transport that still holds bytes stays open until the peer takes them, so
        the close waits for that too (asyncio offers no awaitable for it: it polls).
        """
        try:
            async with asyncio.timeout(self._close_timeout_s):
                try:
                    await self._sink.close(code, reason)
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is None or current.cancelling():
                        raise
                    # aiohttp cancelled a future of its own (the socket was closing already)
                while self._sink.backlog():  # noqa: ASYNC110  (a transport has no such event)
                    await asyncio.sleep(FLUSH_POLL_S)
        except (TimeoutError, ConnectionError, RuntimeError):
            self._sink.abort()
        except asyncio.CancelledError:  # whoever cancels a close wants the peer gone
            self._sink.abort()
            raise
