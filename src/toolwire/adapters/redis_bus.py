"""`RedisEventBus`: per-run Redis Streams for resume, per-user pub/sub channels for fan-out.

Cancel requests go on one control channel that every instance with a cancel handler hears.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Literal, cast

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from toolwire.services.events import RunEvent
from toolwire.services.ports import CancelHandler, Deliver

log = logging.getLogger(__name__)

_LIVE_TTL_MS = 24 * 3600 * 1000  # a run still going keeps its log this much past retention
_CONFIRM_TIMEOUT_S = 5.0
_PING_TIMEOUT_S = 2.0
_CONNECT_TIMEOUT_S = 5.0
_BACKOFF_MIN_S = 1.0
_BACKOFF_MAX_S = 60.0

# Append the event under the stream id `<seq>-1`, so a repeat of the same seq is refused and
# neither stored nor announced again; then refresh the expiries and announce it, atomically.
_PUBLISH_ONCE = """
local added = redis.pcall('XADD', KEYS[1], 'MAXLEN', ARGV[1], ARGV[2], 'event', ARGV[3])
if type(added) == 'table' and added.err then
  if string.find(added.err, 'equal or smaller') then return 0 end
  return redis.error_reply(added.err)
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[4])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1
"""


@dataclass(slots=True, eq=False)
class RedisSubscription:
    """One local subscriber of one user's events."""

    bus: RedisEventBus
    user_id: str
    deliver: Deliver
    active: bool = True

    async def close(self) -> None:
        """Stop delivering events."""
        await self.bus._unsubscribe(self)


@dataclass(slots=True, eq=False)
class RedisCancelListener:
    """One local handler of cancel requests from any instance."""

    bus: RedisEventBus
    handler: CancelHandler

    async def close(self) -> None:
        """Stop calling the handler."""
        await self.bus._stop_cancel_listener(self)


class RedisEventBus:
    """Event bus shared by every instance that uses the same Redis server."""

    def __init__(
        self,
        *,
        url: str,
        prefix: str = "toolwire",
        retention_s: float = 900.0,
        max_events: int = 10_000,
    ) -> None:
        self._url = url
        self._prefix = prefix
        self._retention_ms = max(1, round(retention_s * 1000))
        self._max_events = max_events
        self._origin = uuid.uuid4().hex
        self._redis: Redis | None = None
        self._pubsub_redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._pubsub_lock = asyncio.Lock()
        self._listener: asyncio.Task[None] | None = None
        self._subscribers: dict[str, list[RedisSubscription]] = {}
        self._control = f"{prefix}:control".encode()
        self._cancel_listeners: list[RedisCancelListener] = []
        self._confirmations: dict[bytes, asyncio.Future[None]] = {}
        self._closed = False
        self._delivered: dict[str, int] = {}  # run_id -> last seq delivered locally
        self._publish_once: AsyncScript | None = None

    async def publish(self, user_id: str, event: RunEvent) -> None:
        """Append `event` to its run's stream and announce it in one script; then deliver.

        A repeat of a stored `seq` (a retry after a lost reply or a cancelled call) is not
        stored or announced again, and reaches local subscribers only if it had not yet.
        """
        stream = f"{self._prefix}:run:{event.run_id}"
        ttl_ms = self._retention_ms
        if event.type != "agent_completed":
            ttl_ms += _LIVE_TTL_MS
        envelope = {"origin": self._origin, "user_id": user_id, "event": event.to_wire()}
        announcement = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
        client = self._client()
        if self._publish_once is None:
            self._publish_once = client.register_script(_PUBLISH_ONCE)  # EVALSHA, then EVAL
        await self._publish_once(keys=[stream, f"{stream}:owner"], args=[
            self._max_events, f"{event.seq}-1", event.to_json(), ttl_ms, user_id,
            self._channel(user_id), announcement,
        ])
        if event.seq <= self._delivered.get(event.run_id, 0):
            return
        if event.type == "agent_completed":
            self._delivered.pop(event.run_id, None)
        else:
            self._delivered[event.run_id] = event.seq
        self._deliver(user_id, event)

    async def subscribe(self, user_id: str, deliver: Deliver) -> RedisSubscription:
        """Deliver every later event of `user_id`, from any instance, to `deliver`."""
        if self._closed:
            raise RuntimeError("event bus is closed")
        sub = RedisSubscription(self, user_id, deliver)
        subs = self._subscribers.setdefault(user_id, [])
        subs.append(sub)
        try:
            await self._listen_on(self._channel(user_id), first=len(subs) == 1)
        except asyncio.CancelledError:
            self._forget(sub)
            raise
        return sub

    async def request_cancel(self, run_id: str) -> None:
        """Announce the request on the control channel, then call this instance's handlers."""
        request = {"origin": self._origin, "run_id": run_id}
        await self._client().publish(self._control, json.dumps(request, separators=(",", ":")))
        self._cancel_locally(run_id)

    async def on_cancel(self, handler: CancelHandler) -> RedisCancelListener:
        """Call `handler` for every later cancel request, from any instance."""
        if self._closed:
            raise RuntimeError("event bus is closed")
        listener = RedisCancelListener(self, handler)
        self._cancel_listeners.append(listener)
        try:
            await self._listen_on(self._control, first=len(self._cancel_listeners) == 1)
        except asyncio.CancelledError:
            self._drop_cancel_listener(listener)
            raise
        return listener

    def subscriber_count(self, user_id: str) -> int:
        """Return how many live subscriptions `user_id` has on this instance."""
        return len(self._subscribers.get(user_id, ()))

    async def replay(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        """Return the kept events of `run_id` with `seq > after_seq`, in order."""
        entries = cast(
            "list[tuple[bytes, dict[bytes, bytes]]]",
            await self._client().xrange(f"{self._prefix}:run:{run_id}"),
        )
        events = []
        for entry_id, fields in entries:
            try:
                event = RunEvent.from_json(fields[b"event"])
            except (KeyError, ValueError) as exc:
                log.warning("skipped malformed entry %r of run %s: %s", entry_id, run_id, exc)
                continue
            if event.seq > after_seq:
                events.append(event)
        return events

    async def run_owner(self, run_id: str) -> str | None:
        """Return the user of a kept run, or None."""
        owner = await self._client().get(f"{self._prefix}:run:{run_id}:owner")
        return owner.decode() if isinstance(owner, bytes) else owner

    async def ping(self) -> bool:
        """Return True when Redis answers PING in time; never raise."""
        if self._closed:
            return False
        try:
            return bool(await asyncio.wait_for(self._client().ping(), _PING_TIMEOUT_S))
        except Exception as exc:
            log.debug("redis ping failed: %s: %s", type(exc).__name__, exc)
            return False

    async def aclose(self) -> None:
        """Stop the listener and close the Redis connections."""
        self._closed = True
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        await self._close_pubsub()
        for confirmed in self._confirmations.values():
            if not confirmed.done():
                confirmed.set_result(None)
        self._confirmations.clear()
        self._subscribers.clear()
        self._cancel_listeners.clear()
        for client in (self._pubsub_redis, self._redis):
            if client is not None:
                await client.aclose()
        self._pubsub_redis = self._redis = None
        self._publish_once = None

    def _client(self) -> Redis:
        if self._closed:
            raise RuntimeError("event bus is closed")
        if self._redis is None:
            self._redis = Redis.from_url(self._url, decode_responses=False)
        return self._redis

    def _channel(self, user_id: str) -> bytes:
        return f"{self._prefix}:user:{user_id}".encode()

    def _deliver(self, user_id: str, event: RunEvent) -> None:
        for sub in tuple(self._subscribers.get(user_id, ())):
            try:
                sub.deliver(event)
            except Exception:
                log.exception("subscriber of user %s failed", user_id)

    def _cancel_locally(self, run_id: str) -> None:
        for listener in tuple(self._cancel_listeners):
            try:
                listener.handler(run_id)
            except Exception:
                log.exception("cancel handler failed for run %s", run_id)

    def _drop_cancel_listener(self, listener: RedisCancelListener) -> bool:
        """Drop `listener`; return True when it was the last one."""
        if listener not in self._cancel_listeners:
            return False
        self._cancel_listeners.remove(listener)
        return not self._cancel_listeners

    async def _stop_cancel_listener(self, listener: RedisCancelListener) -> None:
        if self._drop_cancel_listener(listener):
            await self._send("unsubscribe", self._control)

    def _forget(self, sub: RedisSubscription) -> bool:
        """Drop `sub`; return True when it was its user's last local subscriber."""
        if not sub.active:
            return False
        sub.active = False
        subs = self._subscribers.get(sub.user_id, [])
        if sub in subs:
            subs.remove(sub)
        if subs:
            return False
        self._subscribers.pop(sub.user_id, None)
        return True

    async def _unsubscribe(self, sub: RedisSubscription) -> None:
        if self._forget(sub):
            await self._send("unsubscribe", self._channel(sub.user_id))

    async def _listen_on(self, channel: bytes, *, first: bool) -> None:
        """Subscribe `channel` when `first`; return once Redis routes it here (or give up)."""
        try:
            if first:
                self._confirmations[channel] = asyncio.get_running_loop().create_future()
                if self._listener is None:
                    self._listener = asyncio.create_task(self._listen(), name="redis-event-bus")
                await self._send("subscribe", channel)
            confirmed = self._confirmations.get(channel)
            if confirmed is not None:
                # Return only once Redis routes the channel here, so no later message is missed.
                await asyncio.wait_for(asyncio.shield(confirmed), _CONFIRM_TIMEOUT_S)
        except TimeoutError:
            log.warning("redis has not confirmed channel %r yet", channel)

    async def _send(self, command: Literal["subscribe", "unsubscribe"], channel: bytes) -> None:
        async with self._pubsub_lock:
            if self._pubsub is None:
                return  # not connected: the listener subscribes the wanted channels when it is
            try:
                if command == "subscribe":
                    await self._pubsub.subscribe(channel)
                else:
                    await self._pubsub.unsubscribe(channel)
            except (RedisError, OSError) as exc:
                log.warning("redis %s %r failed (%s); the listener resyncs", command, channel, exc)

    async def _listen(self) -> None:
        """Read the shared pub/sub connection until cancelled, reconnecting with backoff."""
        delay = _BACKOFF_MIN_S
        while True:
            try:
                pubsub = await self._open_pubsub()
                delay = _BACKOFF_MIN_S
                while True:
                    self._handle(await self._next_message(pubsub))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                kind = type(exc).__name__
                log.warning("redis pub/sub lost (%s: %s); retry in %.0f s", kind, exc, delay)
            await self._close_pubsub()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX_S)

    async def _open_pubsub(self) -> PubSub:
        async with self._pubsub_lock:
            if self._pubsub_redis is None:
                # No retry, so redis-py never reconnects (and resubscribes) behind our lock:
                # every connection error reaches _listen, which reopens and resubscribes.
                self._pubsub_redis = Redis.from_url(
                    self._url,
                    decode_responses=False,
                    retry=Retry(NoBackoff(), 0, supported_errors=()),
                    socket_connect_timeout=_CONNECT_TIMEOUT_S,
                )
            pubsub = self._pubsub_redis.pubsub()
            try:
                await pubsub.connect()  # type: ignore[no-untyped-call]  # redis-py: unannotated
                channels = [self._channel(user_id) for user_id in self._subscribers]
                if self._cancel_listeners:
                    channels.append(self._control)
                if channels:
                    await pubsub.subscribe(*channels)
            except BaseException:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                raise
            self._pubsub = pubsub
            return pubsub

    async def _close_pubsub(self) -> None:
        async with self._pubsub_lock:
            pubsub, self._pubsub = self._pubsub, None
            if pubsub is not None:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    @staticmethod
    async def _next_message(pubsub: PubSub) -> dict[str, Any]:
        while True:
            connection = pubsub.connection
            if connection is None or not connection.is_connected:
                # Never let redis-py reconnect behind the lock's back; _listen reopens.
                raise RedisConnectionError("pub/sub connection closed")
            message = await pubsub.get_message(timeout=None)
            if message is not None:
                return dict(message)

    def _handle(self, message: dict[str, Any]) -> None:
        """Route one pub/sub message to local subscribers or cancel handlers."""
        kind, channel = message.get("type"), message.get("channel")
        if kind == "subscribe":
            confirmed = self._confirmations.pop(channel, None) if channel else None
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
        elif kind == "message" and channel == self._control:
            self._handle_cancel(message.get("data"))
        elif kind == "message":
            self._handle_event(channel, message.get("data"))

    def _handle_cancel(self, data: Any) -> None:
        """Call the cancel handlers for another instance's request; drop a malformed one."""
        try:
            request = json.loads(data)
            if request["origin"] == self._origin:
                return  # our own request: request_cancel() already called the local handlers
            run_id = request["run_id"]
            if not isinstance(run_id, str):
                raise ValueError(f"run_id {run_id!r} is not a string")
        except Exception as exc:
            log.warning("dropped a malformed cancel request: %r", exc)
            return
        self._cancel_locally(run_id)

    def _handle_event(self, channel: Any, data: Any) -> None:
        """Deliver another instance's event to local subscribers; drop a malformed one."""
        try:
            envelope = json.loads(data)
            if envelope["origin"] == self._origin:
                return  # our own event: already delivered locally by publish()
            user_id = envelope["user_id"]
            if not isinstance(user_id, str) or self._channel(user_id) != channel:
                raise ValueError(f"user_id {user_id!r} does not match the channel")
            event = RunEvent.from_wire(envelope["event"])
        except Exception as exc:
            log.warning("dropped a malformed message on %r: %r", channel, exc)
            return
        self._deliver(user_id, event)
