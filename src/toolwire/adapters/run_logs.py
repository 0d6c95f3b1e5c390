"""`RunLogs`: the in-memory replay logs of runs, bounded in events, time and bytes.

A live run keeps at most `max_events` events. An ended run is kept `retention_s`, and the
ended runs' logs together stay under `max_bytes_per_user` for each user and `max_bytes` in
all: past either bound the oldest ended logs go first. Bytes are the events' UTF-8 JSON.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from toolwire.services.events import RunEvent


@dataclass(slots=True, eq=False)
class RunLog:
    """The kept events of one run and their size."""

    run_id: str
    user_id: str
    events: deque[RunEvent] = field(default_factory=deque)
    size: int = 0
    ended_at: float | None = None

    @property
    def last_seq(self) -> int:
        """Return the `seq` of the newest kept event (0 when none)."""
        return self.events[-1].seq if self.events else 0


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
        self.expire()
        run = self._logs.get(event.run_id)
        if run is None:
            run = self._logs[event.run_id] = RunLog(event.run_id, user_id)
        elif event.seq <= run.last_seq or run.ended_at is not None:
            return False
        run.events.append(event)
        run.size += len(event.encoded())
        if len(run.events) > self._max_events:
            run.size -= len(run.events.popleft().encoded())
        if event.type == "agent_completed":
            self._end(run)
        return True

    def clear(self) -> None:
        """Drop every log."""
        self._logs.clear()
        self._ended.clear()
        self._ended_of_user.clear()
        self._user_bytes.clear()
        self._ended_bytes = 0

    def expire(self) -> None:
        """Drop the ended logs older than the retention window."""
        cutoff = self._clock() - self._retention_s
        while self._ended:
            oldest = next(iter(self._ended.values()))
            if oldest.ended_at is not None and oldest.ended_at > cutoff:
                return
            self._drop(oldest)

    def _end(self, run: RunLog) -> None:
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
