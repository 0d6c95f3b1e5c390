"""`RunLogs`: the in-memory replay logs of runs, bounded in events, time and bytes.

A live run keeps at most `max_events` events. An ended run is kept `retention_s`, and the
ended runs' logs together stay under `max_bytes_per_user` for each user and `max_bytes` in
all: past either bound the oldest ended logs go first. An ended log keeps only its events'
UTF-8 JSON (the events are rebuilt from it on replay), so what the bounds count, the JSON
plus `ENTRY_OVERHEAD` per event, is what it costs in memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from toolwire.services.events import RunEvent

ENTRY_OVERHEAD: Final = 48
"""What keeping one event's JSON costs beyond its bytes (the bytes object and its slot)."""


@dataclass(slots=True, eq=False)
class RunLog:
    """The kept events of one run and their size; an ended run keeps only their JSON."""

    run_id: str
    user_id: str
    events: deque[RunEvent] = field(default_factory=deque)
    size: int = 0
    ended_at: float | None = None
    last_seq: int = 0
    frozen: tuple[bytes, ...] = ()

    def after(self, seq: int) -> list[RunEvent]:
        """Return the kept events with `seq` above `seq`, in order."""
        if self.ended_at is None:
            return [event for event in self.events if event.seq > seq]
        first = self.last_seq - len(self.frozen) + 1  # kept seqs are consecutive
        return [RunEvent.from_json(data) for data in self.frozen[max(0, seq - first + 1):]]


class _Ended(NamedTuple):
    """An ended run as a plain tuple of strings, bytes and numbers (see `RunLogs`)."""

    user_id: str
    frozen: tuple[bytes, ...]
    size: int
    ended_at: float
    last_seq: int


class RunLogs:
    """Replay logs by run, with the ended ones bounded per user and in total.

    An ended run is kept as a plain tuple of its user, its events' JSON and three numbers:
    the garbage collector stops tracking such a tuple, so the many ended runs a busy
    server keeps add nothing to its full collections (each `RunLog` object would: a pause
    that grows with the runs kept).
    """

    def __init__(
        self,
        *,
        retention_s: float,
        max_events: int,
        max_bytes_per_user: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._retention_s = retention_s
        self._max_events = max_events
        self._max_bytes_per_user = max_bytes_per_user
        self._max_bytes = max_bytes
        self._clock = clock
        self._live: dict[str, RunLog] = {}
        self._ended: OrderedDict[str, tuple[str, tuple[bytes, ...], int, float, int]] = (
            OrderedDict())  # oldest end first; plain tuples (`_Ended`'s fields)
        self._ended_of_user: dict[str, OrderedDict[str, None]] = {}
        self._user_bytes: dict[str, int] = {}
        self._ended_bytes = 0
        self._next_expiry = 0.0

    @property
    def ended_bytes(self) -> int:
        """Return the size of every ended run's kept log."""
        return self._ended_bytes

    def user_bytes(self, user_id: str) -> int:
        """Return the size of `user_id`'s ended runs' kept logs."""
        return self._user_bytes.get(user_id, 0)

    def __len__(self) -> int:
        return len(self._live) + len(self._ended)

    def get(self, run_id: str) -> RunLog | None:
        """Return the kept log of `run_id`, or None when unknown or dropped."""
        self.expire()
        live = self._live.get(run_id)
        if live is not None:
            return live
        found = self._ended.get(run_id)
        if found is None:
            return None
        ended = _Ended(*found)
        return RunLog(run_id, ended.user_id, size=ended.size, ended_at=ended.ended_at,
                      last_seq=ended.last_seq, frozen=ended.frozen)

    def append(self, user_id: str, event: RunEvent) -> bool:
        """Keep `event`; return False (keeping nothing) for a repeat of a kept `seq`."""
        if self._clock() >= self._next_expiry:  # at most once a second on the publish path
            self.expire()
        run = self._live.get(event.run_id)
        if run is None:
            if event.run_id in self._ended:
                return False
            run = self._live[event.run_id] = RunLog(event.run_id, user_id)
        elif event.seq <= run.last_seq:
            return False
        run.events.append(event)
        run.last_seq = event.seq
        run.size += len(event.encoded()) + ENTRY_OVERHEAD
        if len(run.events) > self._max_events:
            run.size -= len(run.events.popleft().encoded()) + ENTRY_OVERHEAD
        if event.type == "agent_completed":
            self._end(run)
        return True

    def forget(self, user_id: str, run_ids: Iterable[str]) -> None:
        """Drop the logs of those of `run_ids` that belong to `user_id`."""
        for run_id in run_ids:
            live = self._live.get(run_id)
            if live is not None:
                if live.user_id == user_id:
                    del self._live[run_id]
                continue
            ended = self._ended.get(run_id)
            if ended is not None and ended[0] == user_id:
                self._drop(run_id)

    def clear(self) -> None:
        """Drop every log."""
        self._live.clear()
        self._ended.clear()
        self._ended_of_user.clear()
        self._user_bytes.clear()
        self._ended_bytes = 0

    def expire(self) -> None:
        """Drop the ended logs older than the retention window."""
        now = self._clock()
        self._next_expiry = now + 1.0
        cutoff = now - self._retention_s
        ended = self._ended
        while ended:
            run_id, oldest = next(iter(ended.items()))
            if oldest[3] > cutoff:
                return
            self._drop(run_id)

    def _end(self, run: RunLog) -> None:
        del self._live[run.run_id]
        user_id, size = run.user_id, run.size
        self._ended[run.run_id] = (user_id, tuple(event.encoded() for event in run.events),
                                   size, self._clock(), run.last_seq)
        mine = self._ended_of_user.get(user_id)
        if mine is None:
            mine = self._ended_of_user[user_id] = OrderedDict()
        mine[run.run_id] = None
        self._user_bytes[user_id] = self._user_bytes.get(user_id, 0) + size
        self._ended_bytes += size
        while self._user_bytes.get(user_id, 0) > self._max_bytes_per_user and mine:
            self._drop(next(iter(mine)))
        while self._ended_bytes > self._max_bytes and self._ended:
            self._drop(next(iter(self._ended)))

    def _drop(self, run_id: str) -> None:
        """Forget the ended run `run_id`."""
        found = self._ended.pop(run_id, None)
        if found is None:
            return
        user_id, size = found[0], found[2]
        mine = self._ended_of_user.get(user_id)
        if mine is not None:
            mine.pop(run_id, None)
            if not mine:
                del self._ended_of_user[user_id]
        left = self._user_bytes.get(user_id, 0) - size
        if left > 0:
            self._user_bytes[user_id] = left
        else:
            self._user_bytes.pop(user_id, None)
        self._ended_bytes -= size
