"""`PubSubListener`: one pub/sub connection per instance, kept alive and always resubscribed.

The listener pings Redis whenever the connection has been quiet for half of `keepalive_s`
and drops it when nothing at all came back for `keepalive_s`, so a silent failure (a paused
server, a dead peer, a killed connection) is found within that bound. It then reconnects
with a backoff of at most `reconnect_max_s`, subscribes every wanted channel again and, once
Redis confirmed them all, calls `on_resubscribed(lost_since)` (the Unix time it last heard
from Redis before the loss) so the bus can fill what was
announced while nobody listened. One bad message never stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Final, Literal

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from toolwire.adapters.redis_bus.connect import RedisConnector
from toolwire.adapters.redis_bus.pubsub import PubSubConnection

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S: Final = 5.0
FIRST_RETRY_S: Final = 0.05

OnMessage = Callable[[bytes, bytes], None]
OnResubscribed = Callable[[float], None]


class PubSubListener:
    """Subscribes wanted channels on one connection and hands their messages over."""

    def __init__(
        self,
        connector: RedisConnector,
        *,
        on_message: OnMessage,
        on_resubscribed: OnResubscribed,
        home_channel: bytes,
        keepalive_s: float,
        reconnect_max_s: float,
    ) -> None:
        self._connector = connector
        self._on_message = on_message
        self._on_resubscribed = on_resubscribed
        self._keepalive_s = keepalive_s
        self._reconnect_max_s = reconnect_max_s
        self._wanted: set[bytes] = {home_channel}
        self._live: set[bytes] = set()  # confirmed on the current connection
        self._waiting: dict[bytes, asyncio.Future[None]] = {}
        self._link: PubSubConnection | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._heard_at = time.time()  # Unix time of the last message (or of the start)
        self._lost_since: float | None = None  # set from a loss until the resync is due

    async def listen(self, channel: bytes) -> None:
        """Subscribe `channel`; return once Redis confirmed it (or after a bounded wait)."""
        self._wanted.add(channel)
        if channel in self._live:
            return
        waiter = self._waiting.get(channel)
        if waiter is None:
            waiter = self._waiting[channel] = asyncio.get_running_loop().create_future()
        self._start()
        await self._send("subscribe", channel)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), CONFIRM_TIMEOUT_S)
        except TimeoutError:
            log.warning("redis has not confirmed channel %r yet; the listener resubscribes "
                        "it when it reconnects", channel)

    async def unlisten(self, channel: bytes) -> None:
        """Stop listening on `channel`."""
        self._wanted.discard(channel)
        self._live.discard(channel)  # a listen() from now on must wait for a new confirmation
        await self._send("unsubscribe", channel)

    async def aclose(self) -> None:
        """Stop the loop and close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._drop_link()
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_result(None)
        self._waiting.clear()

    def _start(self) -> None:
        if self._task is None:
            self._heard_at = time.time()
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="redis-bus-listener")

    async def _send(self, command: Literal["subscribe", "unsubscribe"], channel: bytes) -> None:
        async with self._lock:
            link = self._link
            if link is None:
                return  # not connected: the loop subscribes every wanted channel when it is
            try:
                if command == "subscribe":
                    await link.subscribe(channel)
                else:
                    await link.unsubscribe(channel)
            except (RedisError, OSError) as exc:
                log.warning("redis %s %r failed (%s); the listener resyncs", command, channel,
                            exc)

    async def _run(self) -> None:
        """Read the connection until cancelled, reconnecting with a bounded backoff."""
        delay = FIRST_RETRY_S
        while True:
            try:
                link = await self._connect()
                delay = FIRST_RETRY_S
                await self._read(link)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("redis pub/sub lost (%s: %s); reconnecting in %.2f s",
                            type(exc).__name__, exc, delay)
            await self._drop_link()
            if self._lost_since is None:
                self._lost_since = self._heard_at
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_max_s)

    async def _connect(self) -> PubSubConnection:
        async with self._lock:
            link = await self._connector.pubsub()
            try:
                await link.subscribe(*sorted(self._wanted))
            except BaseException:
                await link.aclose()
                raise
            self._link = link
            return link

    async def _drop_link(self) -> None:
        async with self._lock:
            link, self._link = self._link, None
            self._live.clear()
            if link is not None:
                with contextlib.suppress(RedisError, OSError):
                    await link.aclose()

    async def _read(self, link: PubSubConnection) -> None:
        quiet_s = self._keepalive_s / 2
        heard = time.monotonic()
        pinged = False
        while True:
            messages = await link.read(quiet_s)
            now = time.monotonic()
            if messages:
                heard, pinged = now, False
                self._heard_at = time.time()
                for message in messages:
                    self._handle(message)
            elif now - heard >= self._keepalive_s:
                raise RedisConnectionError(f"no answer from Redis for {self._keepalive_s:g} s")
            elif not pinged:
                await link.ping()
                pinged = True

    def _handle(self, message: Any) -> None:
        """Act on one RESP2 pub/sub reply: `[kind, channel, data or count]` or `[b"pong", b""]`."""
        if not isinstance(message, list) or len(message) != 3:
            return  # a pong: it only proves the connection is alive
        kind, channel, data = message
        if kind == b"message":
            try:
                self._on_message(channel, data)
            except Exception:
                log.exception("handling a message on %r failed", channel)
        elif kind == b"subscribe":
            self._confirmed(channel)
        elif kind == b"unsubscribe":
            self._live.discard(channel)

    def _confirmed(self, channel: bytes) -> None:
        waiter = self._waiting.pop(channel, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if channel not in self._wanted:
            # Unlistened since: its UNSUBSCRIBE follows, so it is not live, and a `listen()`
            # from now on sends SUBSCRIBE again, after that UNSUBSCRIBE.
            return
        self._live.add(channel)
        lost_since = self._lost_since
        if lost_since is not None and self._wanted <= self._live:
            self._lost_since = None
            self._on_resubscribed(lost_since)
