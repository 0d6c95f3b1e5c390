"""`SocketSlots`: how many sockets each user holds, released exactly once per socket."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from toolwire.adapters.metrics import Metrics


class Slot:
    """One socket's place in its user's count; `release()` is idempotent."""

    __slots__ = ("_release",)

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release

    def release(self) -> None:
        """Give the place back (the first call does; later calls do nothing)."""
        release, self._release = self._release, None
        if release is not None:
            release()


class SocketSlots:
    """Per-user socket counts with a limit, mirrored in the `toolwire_sockets_open` gauge."""

    __slots__ = ("_counts", "_metrics")

    def __init__(self, metrics: Callable[[], Metrics]) -> None:
        self._metrics = metrics
        self._counts: dict[str, int] = {}

    def count(self, user_id: str) -> int:
        """Return how many sockets `user_id` holds."""
        return self._counts.get(user_id, 0)

    def acquire(self, user_id: str, limit: int) -> Slot:
        """Take a place for `user_id`; raise HTTP 429 past `limit` (before the upgrade)."""
        if self._counts.get(user_id, 0) >= limit:
            raise web.HTTPTooManyRequests(
                text=f"at most {limit} sockets per user (limits.sockets_per_user)")
        self._counts[user_id] = self._counts.get(user_id, 0) + 1
        self._metrics().sockets_open.inc()

        def release() -> None:
            self._metrics().sockets_open.dec()
            left = self._counts.get(user_id, 1) - 1
            if left > 0:
                self._counts[user_id] = left
            else:
                self._counts.pop(user_id, None)

        return Slot(release)
