"""`MemoryUserQuotas`: one process's per-user concurrent runs and chats-per-minute window."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Final

from toolwire.services.errors import RateLimitedError

MINUTE_S: Final = 60.0


class MemoryUserQuotas:
    """`limits.runs_per_user` concurrent runs and `limits.chats_per_minute` (sliding window)."""

    __slots__ = ("_chats", "_chats_per_minute", "_clock", "_live", "_next_sweep",
                 "_runs_per_user")

    def __init__(
        self,
        *,
        runs_per_user: int,
        chats_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._runs_per_user = runs_per_user
        self._chats_per_minute = chats_per_minute
        self._clock = clock
        self._live: dict[str, set[str]] = {}
        self._chats: dict[str, deque[float]] = {}
        self._next_sweep = 0.0

    async def admit(self, user_id: str, run_id: str) -> None:
        """Count a new run, or raise `RateLimitedError`; a refused chat leaves no trace."""
        live = self._live.get(user_id)
        if live is not None and len(live) >= self._runs_per_user:
            raise RateLimitedError(
                f"at most {self._runs_per_user} runs may go at once (limits.runs_per_user); "
                "retry when one has ended")
        self._count_chat(user_id)
        if live is None:
            live = self._live[user_id] = set()
        live.add(run_id)

    async def release(self, user_id: str, run_id: str) -> None:
        """Free the run's place (idempotent)."""
        live = self._live.get(user_id)
        if live is not None:
            live.discard(run_id)
            if not live:
                del self._live[user_id]

    def tracked_users(self) -> set[str]:
        """Return the users whose chat window is kept (bounded by the active ones)."""
        return set(self._chats)

    def _count_chat(self, user_id: str) -> None:
        now = self._clock()
        self._sweep(now)
        recent = self._chats.setdefault(user_id, deque())
        while recent and recent[0] <= now - MINUTE_S:
            recent.popleft()
        if len(recent) >= self._chats_per_minute:
            retry_in = recent[0] + MINUTE_S - now
            raise RateLimitedError(
                f"at most {self._chats_per_minute} chats a minute (limits.chats_per_minute); "
                f"retry in {retry_in:.0f} s")
        recent.append(now)

    def _sweep(self, now: float) -> None:
        """Drop idle users' chat times, at most twice a minute."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + MINUTE_S / 2
        for user_id in [u for u, times in self._chats.items()
                        if not times or times[-1] <= now - MINUTE_S]:
            del self._chats[user_id]
