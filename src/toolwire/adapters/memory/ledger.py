"""`MemoryRequestLedger`: the request ids of one process's runs, bounded in count and time."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

DEFAULT_MAX_REQUESTS = 100_000


class MemoryRequestLedger:
    """Remembers `(user, request_id) -> run_id` while the run goes and `retention_s` after.

    At most `max_requests` claims are kept; past that the oldest is forgotten first.
    """

    __slots__ = ("_clock", "_forget_at", "_max_requests", "_requests", "_retention_s")

    def __init__(
        self,
        *,
        retention_s: float,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._retention_s = retention_s
        self._max_requests = max_requests
        self._clock = clock
        self._requests: OrderedDict[tuple[str, str], str] = OrderedDict()
        # Ended runs' claims, in the order they expire (each is `retention_s` after its end).
        self._forget_at: OrderedDict[tuple[str, str], float] = OrderedDict()

    async def claim(self, user_id: str, request_id: str, run_id: str) -> str | None:
        """Claim `request_id` for `run_id`; return the earlier run's id if it is taken."""
        self._forget_expired()
        key = (user_id, request_id)
        earlier = self._requests.get(key)
        if earlier is not None:
            return earlier
        self._requests[key] = run_id
        while len(self._requests) > self._max_requests:
            oldest, _ = self._requests.popitem(last=False)
            self._forget_at.pop(oldest, None)
        return None

    async def settle(self, user_id: str, request_id: str, run_id: str) -> None:
        """Keep the claim `retention_s` from now, unless a later run holds it."""
        key = (user_id, request_id)
        if self._requests.get(key) == run_id:
            self._forget_at.pop(key, None)
            self._forget_at[key] = self._clock() + self._retention_s

    async def release(self, user_id: str, request_id: str, run_id: str) -> None:
        """Forget the claim now if `run_id` holds it."""
        key = (user_id, request_id)
        if self._requests.get(key) == run_id:
            del self._requests[key]
            self._forget_at.pop(key, None)

    def __len__(self) -> int:
        return len(self._requests)

    def _forget_expired(self) -> None:
        now = self._clock()
        while self._forget_at:
            key, when = next(iter(self._forget_at.items()))
            if when > now:
                break
            self._forget_at.popitem(last=False)
            self._requests.pop(key, None)
