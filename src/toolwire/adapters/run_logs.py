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
from typing import Final

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

    def freeze(self) -> None:
        """Keep only the events' JSON (the run has ended)."""
        self.frozen = tuple(event.encoded() for event in self.events)
        self.events = deque()


class RunLogs:
    """Replay logs by run, with the ended ones bounded per user and in total."""

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
        self._logs: dict[str, RunLog] = {}
        self._ended: OrderedDict[str, RunLog] = OrderedDict()  # oldest end first
        self._ended_of_user: dict[str, OrderedDict[str, RunLog]] = {}
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
        return len(self._logs)

    def get(self, run_id: str) -> RunLog | None:
        """Return the kept log of `run_id`, or None when unknown or dropped."""
        self.expire()
        return self._logs.get(run_id)

    def append(self, user_id: str, event: RunEvent) -> bool:
        """Keep `event`; return False (keeping nothing) for a repeat of a kept `seq`."""
        if self._clock() >= self._next_expiry:  # at most once a second on the publish path
            self.expire()
        run = self._logs.get(event.run_id)
        if run is None:
            run = self._logs[event.run_id] = RunLog(event.run_id, user_id)
        elif event.seq <= run.last_seq or run.ended_at is not None:
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
            run = self._logs.get(run_id)
            if run is None or run.user_id != user_id:
                continue
            if run.ended_at is None:
                del self._logs[run_id]
            else:
                self._drop(run)

    def clear(self) -> None:
        """Drop every log."""
        self._logs.clear()
        self._ended.clear()
        self._ended_of_user.clear()
        self._user_bytes.clear()
        self._ended_bytes = 0

    def expire(self) -> None:
        """Drop the ended logs older than the retention window."""
        now = self._clock()
        self._next_expiry = now + 1.0
        cutoff = now - self._retention_s
        while self._ended:
            oldest = next(iter(self._ended.values()))
            if oldest.ended_at is not None and oldest.ended_at > cutoff:
                return
            self._drop(oldest)

    def _end(self, run: RunLog) -> None:
        run.freeze()
        run.ended_at = self._clock()
        self._ended[run.run_id] = run
        self._ended_of_user.setdefault(run.user_id, OrderedDict())[run.run_id] = run
        self._user_bytes[run.user_id] = self._user_bytes.get(run.user_id, 0) + run.size
        self._ended_bytes += run.size
        mine = self._ended_of_user[run.user_id]
        while self._user_bytes.get(run.user_id, 0) > self._max_bytes_per_user and mine:
            self._drop(next(iter(mine.values())))
        while self._ended_bytes > self._max_bytes and self._ended:
            self._drop(next(iter(self._ended.values())))

    def _drop(self, run: RunLog) -> None:
        self._logs.pop(run.run_id, None)
        self._ended.pop(run.run_id, None)
        mine = self._ended_of_user.get(run.user_id)
        if mine is not None:
            mine.pop(run.run_id, None)
            if not mine:
                del self._ended_of_user[run.user_id]
        left = self._user_bytes.get(run.user_id, 0) - run.size
        if left > 0:
            self._user_bytes[run.user_id] = left
        else:
            self._user_bytes.pop(run.user_id, None)
        self._ended_bytes -= run.size
