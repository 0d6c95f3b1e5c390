"""`InMemoryThreadStore`: one process's threads, bounded in bytes per user and in total.

Past a bound the least recently active threads go first (of that user, or of anyone); a
thread idle for `retention_s` is dropped. What the bounds count is what a kept turn costs:
its JSON text plus `TURN_OVERHEAD`.

A thread keeps its turns as their JSON text (bytes), decoded when read: bytes are nothing the
garbage collector walks, so the many turns a busy server keeps add nothing to the pause of a
full collection (a `Turn` object and its tool calls would, three objects a turn).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from toolwire.adapters.memory_bus import InMemoryEventBus
from toolwire.services.ports import EventBus, RunEraser
from toolwire.services.threads.cursor import decode_cursor, encode_cursor
from toolwire.services.threads.history import HistoryBounds, StoredHistory, bound_texts
from toolwire.services.threads.models import (
    ThreadDetail,
    ThreadPage,
    ThreadSummary,
    Turn,
    title_of,
)
from toolwire.services.wire_json import timestamp

TURN_OVERHEAD: Final = 48
"""What keeping one turn costs beyond its JSON text, in bytes: the bytes object's header and
its place in the thread's deque (`python -m benchmarks.threads` measures it)."""
THREAD_OVERHEAD: Final = 600
"""What keeping one thread costs beyond its turns, in bytes."""

Key = tuple[str, str]


@dataclass(slots=True, eq=False)
class _Thread:
    thread_id: str
    title: str
    created: float
    updated: float
    turns: deque[bytes] = field(default_factory=deque)  # each turn's JSON text
    size: int = THREAD_OVERHEAD
    count: int = 0
    active_run: str | None = None
    active_until: float = 0.0

    def summary(self) -> ThreadSummary:
        return ThreadSummary(self.thread_id, self.title, timestamp(self.created),
                             timestamp(self.updated), self.count)


_NONE: Final[dict[str, _Thread]] = {}


def turn_cost(turn: Turn) -> int:
    """Return what keeping `turn` costs, as the bounds count it."""
    return _text_cost(turn.encoded())


def _text_cost(text: bytes) -> int:
    return len(text) + TURN_OVERHEAD


async def _erase_nothing(user_id: str, run_ids: Sequence[str]) -> None:
    return None


def memory_run_eraser(bus: EventBus) -> RunEraser:
    """Return what erases runs' retained events from `bus` (the memory bus keeps them)."""
    if not isinstance(bus, InMemoryEventBus):
        return _erase_nothing
    logs = bus.logs

    async def erase(user_id: str, run_ids: Sequence[str]) -> None:
        logs.forget(user_id, run_ids)

    return erase


class InMemoryThreadStore:
    """The `ThreadStore` of a single process (the memory event bus's companion)."""

    def __init__(
        self,
        *,
        max_bytes_per_user: int = 16 * 1024 * 1024,
        max_bytes: int = 256 * 1024 * 1024,
        max_stored_turns: int = 1000,
        retention_s: float = 30 * 24 * 3600.0,
        erase_runs: RunEraser = _erase_nothing,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._max_bytes_per_user = max_bytes_per_user
        self._max_bytes = max_bytes
        self._max_stored_turns = max_stored_turns
        self._retention_s = retention_s
        self._erase_runs = erase_runs
        self._clock = clock
        self._all: OrderedDict[Key, _Thread] = OrderedDict()  # least recently active first
        self._of_user: dict[str, OrderedDict[str, _Thread]] = {}
        self._user_bytes: dict[str, int] = {}
        self._bytes = 0

    def stats(self) -> tuple[int, int]:
        """Return how many threads are kept and what they cost (for the metrics)."""
        return len(self._all), self._bytes

    async def claim(
        self, user_id: str, thread_id: str, run_id: str, *, message: str, hold_s: float
    ) -> str | None:
        """Make `run_id` the thread's run unless another live claim holds it."""
        now = self._clock()
        thread = self._touch(user_id, thread_id, message, now)
        holder = thread.active_run
        if holder is not None and holder != run_id and thread.active_until > now:
            return holder
        thread.active_run = run_id
        thread.active_until = now + hold_s
        return None

    async def claim_reading(
        self, user_id: str, thread_id: str, run_id: str, *, message: str, hold_s: float,
        max_turns: int, max_bytes: int,
    ) -> tuple[str | None, Sequence[Turn]]:
        """Claim the thread; when that holds, also return its history within the bounds."""
        holder = await self.claim(user_id, thread_id, run_id, message=message, hold_s=hold_s)
        if holder is not None:
            return holder, ()
        return None, await self.history(user_id, thread_id, max_turns=max_turns,
                                        max_bytes=max_bytes)

    async def release(self, user_id: str, thread_id: str, run_id: str) -> None:
        """Drop `run_id`'s claim on the thread."""
        thread = self._of_user.get(user_id, _NONE).get(thread_id)
        if thread is not None and thread.active_run == run_id:
            thread.active_run = None

    async def append(self, user_id: str, thread_id: str, turn: Turn) -> None:
        """Add `turn` to the thread (unless deleted since its claim), then keep every bound."""
        if self._live(user_id, thread_id) is None:
            return
        thread = self._touch(user_id, thread_id, turn.message, self._clock())
        if thread.active_run == turn.run_id:
            thread.active_run = None
        text = turn.encoded()
        thread.turns.append(text)
        thread.count += 1
        cost = _text_cost(text)
        thread.size += cost
        self._account(user_id, cost)
        while len(thread.turns) > self._max_stored_turns:
            self._drop_oldest_turn(user_id, thread)
        mine = self._of_user[user_id]
        while self._user_bytes.get(user_id, 0) > self._max_bytes_per_user:
            oldest = next(iter(mine.values()))
            if oldest is thread:  # the thread alone is past the bound: it loses old turns
                if len(thread.turns) <= 1:
                    break
                self._drop_oldest_turn(user_id, thread)
            else:
                self._drop(user_id, oldest)
        while self._bytes > self._max_bytes and self._all:
            (owner, _), oldest = next(iter(self._all.items()))
            if oldest is thread:
                if len(thread.turns) <= 1:
                    break
                self._drop_oldest_turn(user_id, thread)
            else:
                self._drop(owner, oldest)

    async def history(self, user_id: str, thread_id: str, *, max_turns: int,
                      max_bytes: int) -> Sequence[Turn]:
        """Return the thread's latest whole turns within the bounds, oldest first."""
        thread = self._live(user_id, thread_id)
        if thread is None or not thread.turns:
            return ()
        return StoredHistory(bound_texts(thread.turns, HistoryBounds(max_turns, max_bytes)))

    async def get(self, user_id: str, thread_id: str) -> ThreadDetail | None:
        """Return the thread and its kept turns."""
        thread = self._live(user_id, thread_id)
        if thread is None:
            return None
        active = thread.active_run if thread.active_until > self._clock() else None
        return ThreadDetail(thread.summary(), tuple(StoredHistory(thread.turns)), active)

    async def list_threads(
        self, user_id: str, *, limit: int, before: str | None = None
    ) -> ThreadPage:
        """Return the user's threads, most recently active first, after the cursor."""
        self._expire()
        after = decode_cursor(before) if before else None
        page: list[_Thread] = []
        more = False
        for thread in reversed(self._of_user.get(user_id, _NONE).values()):
            if after is not None and (thread.updated, thread.thread_id) >= after:
                continue
            if len(page) == limit:
                more = True
                break
            page.append(thread)
        cursor = encode_cursor(page[-1].updated, page[-1].thread_id) if more and page else None
        return ThreadPage(tuple(t.summary() for t in page), cursor)

    async def delete(self, user_id: str, thread_id: str) -> Sequence[str] | None:
        """Erase the thread and its runs' retained events."""
        thread = self._live(user_id, thread_id)
        if thread is None:
            return None
        self._drop(user_id, thread)
        run_ids = [turn.run_id for turn in StoredHistory(thread.turns)]
        if thread.active_run is not None:
            run_ids.append(thread.active_run)
        await self._erase_runs(user_id, run_ids)
        return run_ids

    async def aclose(self) -> None:
        """Drop every thread."""
        self._all.clear()
        self._of_user.clear()
        self._user_bytes.clear()
        self._bytes = 0

    def _live(self, user_id: str, thread_id: str) -> _Thread | None:
        self._expire()
        return self._of_user.get(user_id, _NONE).get(thread_id)

    def _touch(self, user_id: str, thread_id: str, message: str, now: float) -> _Thread:
        """Return the thread (created on first use), marked as the most recently active."""
        self._expire()
        mine = self._of_user.setdefault(user_id, OrderedDict())
        thread = mine.get(thread_id)
        if thread is None:
            thread = mine[thread_id] = _Thread(thread_id, title_of(message), now, now)
            self._all[(user_id, thread_id)] = thread
            self._account(user_id, thread.size)
        else:
            mine.move_to_end(thread_id)
            self._all.move_to_end((user_id, thread_id))
            thread.updated = max(now, thread.updated)
        return thread

    def _account(self, user_id: str, size: int) -> None:
        self._user_bytes[user_id] = self._user_bytes.get(user_id, 0) + size
        self._bytes += size

    def _drop_oldest_turn(self, user_id: str, thread: _Thread) -> None:
        size = _text_cost(thread.turns.popleft())
        thread.size -= size
        self._account(user_id, -size)

    def _drop(self, user_id: str, thread: _Thread) -> None:
        mine = self._of_user.get(user_id)
        if mine is None or mine.get(thread.thread_id) is not thread:
            return
        del mine[thread.thread_id]
        if not mine:
            del self._of_user[user_id]
        del self._all[(user_id, thread.thread_id)]
        left = self._user_bytes.get(user_id, 0) - thread.size
        if left > 0:
            self._user_bytes[user_id] = left
        else:
            self._user_bytes.pop(user_id, None)
        self._bytes -= thread.size

    def _expire(self) -> None:
        cutoff = self._clock() - self._retention_s
        while self._all:
            (owner, _), oldest = next(iter(self._all.items()))
            if oldest.updated > cutoff:
                return
            self._drop(owner, oldest)

