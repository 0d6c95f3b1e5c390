"""`RedisEventBus`: run streams for resume, per-user channels for fan-out, gap-free delivery.

An event reaches every instance's sockets once Redis has stored and announced it; `publish`
returns when it is stored. Other instances' events arrive on the user's channel; one that
comes after a gap (a missed announcement) and everything of the user's runs after a pub/sub
reconnect is filled from the run's stream, so every local subscriber gets each `seq` once and
in order. Which instance runs each run, and who ends a dead instance's runs, is `leases`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, cast

from toolwire.adapters.bus_base import EventBusBase
from toolwire.adapters.redis_bus.connect import RedisConnector, RedisOptions
from toolwire.adapters.redis_bus.failures import unavailable_on_failure
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.adapters.redis_bus.leases import RunLeases
from toolwire.adapters.redis_bus.listener import PubSubListener
from toolwire.adapters.redis_bus.store import LIVE_TTL_S, RunStreamStore
from toolwire.services.errors import UnavailableError
from toolwire.services.events import RunEvent

log = logging.getLogger(__name__)

RUNS_LOOKED_AT: Final = 256
"""How many of a user's latest runs `runs_elsewhere` looks at."""
FILL_ATTEMPTS: Final = 5
FILL_FIRST_RETRY_S: Final = 0.1
FILLS_AT_ONCE: Final = 8
PING_FRESH_S: Final = 0.5
"""How long a probe's answer stands for `ping` (admission and readiness ask it)."""
CLOCK_SKEW_S: Final = 5.0
"""Margin for clocks of instances that disagree, when asking which runs started lately."""


@dataclass(slots=True, eq=False)
class _Fill:
    """Events of one run held back while its missing ones are read from the stream."""

    after_seq: int
    held: list[RunEvent] = field(default_factory=list)


class RedisEventBus(EventBusBase):
    """Event bus shared by every instance that uses the same Redis (or Redis Cluster)."""

    def __init__(
        self,
        *,
        url: str,
        prefix: str = "toolwire",
        retention_s: float = 900.0,
        max_events: int = 10_000,
        cluster: bool = False,
        pool_size: int = 32,
        pool_timeout_s: float = 0.5,
        keepalive_s: float = 5.0,
        reconnect_max_s: float = 2.0,
        lease_s: float = 10.0,
        track_watchers: bool = False,
        tls_ca_file: str | None = None,
        tls_cert_file: str | None = None,
        tls_key_file: str | None = None,
    ) -> None:
        super().__init__()
        self.keys = RedisKeys(prefix)
        self._connector = RedisConnector(RedisOptions(
            url=url, cluster=cluster, pool_size=pool_size, pool_timeout_s=pool_timeout_s,
            health_check_s=keepalive_s, tls_ca_file=tls_ca_file, tls_cert_file=tls_cert_file,
            tls_key_file=tls_key_file))
        self._store = RunStreamStore(
            self._connector, self.keys, host_id=self.host_id, retention_s=retention_s,
            max_events=max_events, lease_s=lease_s, cluster=cluster)
        self._leases = RunLeases(
            self._connector, self.keys, self._store, host_id=self.host_id, lease_s=lease_s,
            retention_s=retention_s, on_cancel=self._cancel_locally, deliver=self._deliver,
            keep_alive=track_watchers, cluster=cluster)
        self._track_watchers = track_watchers
        self._ping_timeout_s = pool_timeout_s
        self._ping_ok, self._ping_fresh_until = False, 0.0  # the last probe, kept a moment
        self._cancel_ttl_ms = max(1, round(retention_s * 1000)) + round(LIVE_TTL_S * 1000)
        self._listener = PubSubListener(
            self._connector, on_message=self._on_message, on_resubscribed=self._resync,
            home_channel=self.keys.instance_channel(self.host_id),
            keepalive_s=keepalive_s, reconnect_max_s=reconnect_max_s)
        self._control = self.keys.control_channel()
        self._users_by_channel: dict[bytes, str] = {}
        self._fills: dict[tuple[str, str], _Fill] = {}
        self._fill_slots = asyncio.Semaphore(FILLS_AT_ONCE)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def connector(self) -> RedisConnector:
        """Return the Redis clients of this bus (the ledger and quotas share them)."""
        return self._connector

    async def publish(self, user_id: str, event: RunEvent) -> None:
        """Store and announce `event`, then deliver it to this instance's subscribers.

        No socket sees an event Redis does not hold, so a failed publish shows nowhere and
        its retry (a repeat of the `seq`) is neither stored nor delivered twice.
        """
        self._check_open()
        await self._store.append(user_id, event)
        self._stored(user_id, event)

    def publish_soon(self, user_id: str, event: RunEvent) -> asyncio.Future[None]:
        """Queue `event` behind the run's earlier ones: the events a run publishes before
        Redis answered go in one script call. Delivered here once stored, in order; after
        a failure the run's later events fail too until `publish` publishes again."""
        self._check_open()
        stored = self._store.append_soon(user_id, event)
        stored.add_done_callback(partial(self._stored_soon, user_id, event))
        return stored

    def _stored_soon(self, user_id: str, event: RunEvent, stored: asyncio.Future[None]) -> None:
        if not stored.cancelled() and stored.exception() is None:
            self._stored(user_id, event)

    def _stored(self, user_id: str, event: RunEvent) -> None:
        """Redis holds `event`: keep or release the run's lease, deliver it here."""
        if event.type == "agent_completed":
            self._leases.release(event.run_id)
        else:
            self._leases.hold(event.run_id, user_id)
        self._deliver(user_id, event)

    async def run_closed(self, run_id: str) -> None:
        """Stop renewing the lease of `run_id`; unless it ended, a survivor ends it."""
        self._store.forget_run(run_id)
        self._leases.release(run_id)

    async def replay(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        """Return the kept events of `run_id` with `seq > after_seq`, in order."""
        self._check_open()
        async with unavailable_on_failure("reading a run"):
            return await self._store.replay(run_id, after_seq)

    async def run_owner(self, run_id: str) -> str | None:
        """Return the user of a kept run, or None."""
        self._check_open()
        async with unavailable_on_failure("looking up a run"):
            return await self._store.owner(run_id)

    async def request_cancel(self, run_id: str) -> None:
        """Record the request until the run's owner acts, then announce it everywhere.

        The record is what makes a cancel durable: the owner reads it on every lease renewal
        and after a pub/sub reconnect, so an announcement it missed loses nothing. A run no
        live instance owns is ended here as interrupted. Raises `UnavailableError` when the
        request could not be recorded.
        """
        self._check_open()
        try:
            async with self._connector.slot() as client:
                await client.set(self.keys.cancel(run_id), self.host_id,
                                 px=self._cancel_ttl_ms)
        except Exception as exc:
            log.warning("could not record a cancel of run %s: %s", run_id, exc,
                        extra={"run_id": run_id})
            raise UnavailableError("the cancel could not be recorded: the event bus is "
                                   "unavailable; retry shortly") from exc
        try:
            if await self._leases.end_if_orphaned(run_id):
                return
        except Exception as exc:  # recorded: the owner, or the next sweep, acts on it
            log.warning("could not check whether run %s is orphaned: %s", run_id, exc,
                        extra={"run_id": run_id})
        try:
            await self._store.announce(self._control, self._announcement(run_id))
        except Exception as exc:  # recorded: the owner finds it at its next renewal
            log.warning("could not announce a cancel of run %s: %s", run_id, exc,
                        extra={"run_id": run_id})
        self._cancel_locally(run_id)

    async def ping(self) -> bool:
        """Return True when every Redis master took a write within the pool timeout; never
        raise.

        The answer is kept `PING_FRESH_S`: every chat asks (refused at once while Redis is
        down), and a probe per chat would be a round trip per chat. A chat let through
        meanwhile still fails cleanly at its first write.
        """
        if self._closed:
            return False
        now = time.monotonic()
        if now < self._ping_fresh_until:
            return self._ping_ok
        try:
            async with asyncio.timeout(self._ping_timeout_s):
                ok = await self._store.probe()
        except Exception as exc:
            log.debug("redis ping failed: %s: %s", type(exc).__name__, exc)
            ok = False
        self._ping_ok, self._ping_fresh_until = ok, time.monotonic() + PING_FRESH_S
        return ok

    async def aclose(self) -> None:
        """Stop listening and writing, and close the Redis connections."""
        self._drop_local_state()
        await self._leases.aclose()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._listener.aclose()
        await self._store.aclose()
        await self._connector.aclose()
        self._users_by_channel.clear()
        self._fills.clear()

    async def watched_elsewhere(self, user_id: str) -> bool:
        """Return True when another live instance holds a subscriber of `user_id`.

        True as well when Redis cannot tell: a run is never cancelled on a guess. Only a bus
        built with `track_watchers` (`runs.cancel_on_disconnect`) notes its users' sockets.
        """
        try:
            async with self._connector.slot() as client:
                members = cast("set[bytes]", await client.smembers(self.keys.watchers(user_id)))
                others = [m.decode() for m in members if m.decode() != self.host_id]
                if not others:
                    return False
                pipe = client.pipeline(transaction=False)
                for host in others:
                    pipe.exists(self.keys.alive(host))
                return any(await pipe.execute())
        except Exception as exc:
            log.warning("could not tell whether user %s is connected elsewhere: %s",
                        user_id, exc, extra={"user_id": user_id})
            return True

    async def runs_elsewhere(self, user_id: str) -> list[str]:
        """Return the user's recent runs whose lease another instance holds."""
        async with unavailable_on_failure("listing a user's runs"), \
                self._connector.slot() as client:
            recent = cast("list[bytes]", await client.zrevrange(
                self.keys.user_runs(user_id), 0, RUNS_LOOKED_AT - 1))
            run_ids = [raw.decode() for raw in recent]
            if not run_ids:
                return []
            pipe = client.pipeline(transaction=False)
            for run_id in run_ids:
                pipe.get(self.keys.lease(run_id))
            holders = await pipe.execute()
        mine = self.host_id.encode()
        return [run_id for run_id, holder in zip(run_ids, holders, strict=True)
                if isinstance(holder, bytes) and holder != mine and not holder.startswith(b"-")]

    async def _listen_to_user(self, user_id: str) -> None:
        channel = self.keys.user_channel(user_id)
        self._users_by_channel[channel] = user_id
        await self._listener.listen(channel)
        if self._track_watchers:
            self._leases.start()  # keeps this instance's liveness, which its watchers rely on
            await self._watch(user_id, watching=True)

    async def _stop_listening_to_user(self, user_id: str) -> None:
        channel = self.keys.user_channel(user_id)
        self._users_by_channel.pop(channel, None)
        await self._listener.unlisten(channel)
        if self._track_watchers:
            await self._watch(user_id, watching=False)

    async def _watch(self, user_id: str, *, watching: bool) -> None:
        """Note in Redis whether this instance holds a subscriber of `user_id` (best effort:
        a dead instance's entry is ignored once its liveness key expired)."""
        key = self.keys.watchers(user_id)
        try:
            async with self._connector.slot() as client:
                if watching:
                    pipe = client.pipeline(transaction=False)
                    pipe.sadd(key, self.host_id)
                    pipe.pexpire(key, self._cancel_ttl_ms)
                    await pipe.execute()
                else:
                    await client.srem(key, self.host_id)
        except Exception as exc:
            log.warning("could not note the watchers of user %s: %s", user_id, exc,
                        extra={"user_id": user_id})

    async def _listen_to_cancels(self) -> None:
        self._leases.start()  # an instance that runs runs also ends the orphaned ones
        await self._listener.listen(self._control)

    async def _stop_listening_to_cancels(self) -> None:
        await self._listener.unlisten(self._control)

    def _on_message(self, channel: bytes, data: bytes) -> None:
        """Route another instance's announcement; drop echoes unread and malformed ones."""
        try:
            body = self._foreign_body(data)
            if body is None:
                return  # this instance's own: delivered or handled before it was sent
            if channel == self._control:
                self._cancel_locally(_run_id_of(body))
                return
            user_id = self._users_by_channel.get(channel)
            if user_id is None:
                return  # nobody here listens to that user any more
            event = RunEvent.from_json(body)
        except ValueError as exc:
            what = "cancel request" if channel == self._control else "event"
            log.warning("dropped a malformed %s on %r: %s", what, channel, exc)
            return
        self._deliver(user_id, event)

    def _on_gap(self, user_id: str, event: RunEvent, last_seq: int) -> bool:
        self._fill(user_id, event.run_id, last_seq).held.append(event)
        return True

    def _resync(self, lost_since: float) -> None:
        """After a reconnect, fill each local user's runs from what their streams hold, and
        look for cancels recorded while the link was down."""
        self._leases.check_now()
        if self._track_watchers:
            for user_id in self._feeds:  # Redis may have restarted without them
                self._spawn(self._watch(user_id, watching=True))
        for user_id, feed in self._feeds.items():
            for run_id, last_seq in feed.live_runs().items():
                self._fill(user_id, run_id, last_seq)
        self._spawn(self._fill_new_runs(list(self._feeds), lost_since - CLOCK_SKEW_S))

    async def _fill_new_runs(self, user_ids: list[str], since_s: float) -> None:
        """Fill the runs that started while nobody here listened."""
        for user_id in user_ids:
            try:
                async with self._fill_slots:
                    run_ids = await self._store.runs_since(user_id, since_s)
            except Exception as exc:
                log.warning("could not list the recent runs of user %s: %s", user_id, exc)
                continue
            feed = self._feeds.get(user_id)
            for run_id in run_ids:
                if feed is not None and run_id not in feed.delivered:
                    self._fill(user_id, run_id, 0)

    def _fill(self, user_id: str, run_id: str, after_seq: int) -> _Fill:
        """Start reading `run_id` after `after_seq` for `user_id` unless a read is going."""
        key = (user_id, run_id)
        fill = self._fills.get(key)
        if fill is None:
            fill = self._fills[key] = _Fill(after_seq)
            self._spawn(self._run_fill(user_id, run_id, fill))
        return fill

    async def _run_fill(self, user_id: str, run_id: str, fill: _Fill) -> None:
        stored: list[RunEvent] | None = None
        delay = FILL_FIRST_RETRY_S
        try:
            for attempt in range(1, FILL_ATTEMPTS + 1):
                try:
                    async with self._fill_slots:
                        stored = await self._store.replay(run_id, fill.after_seq)
                    break
                except Exception as exc:
                    log.warning("reading run %s for a gap failed (attempt %d): %s", run_id,
                                attempt, exc, extra={"run_id": run_id, "user_id": user_id})
                    await asyncio.sleep(delay)
                    delay *= 2
        finally:
            self._fills.pop((user_id, run_id), None)
        if stored is None:
            log.warning("run %s keeps a gap after seq %d for this instance", run_id,
                        fill.after_seq, extra={"run_id": run_id, "user_id": user_id})
        for event in sorted([*(stored or ()), *fill.held], key=lambda e: e.seq):
            self._deliver(user_id, event, may_fill=False)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _run_id_of(body: bytes) -> str:
    run_id = body.decode()  # UnicodeDecodeError is a ValueError
    if not run_id or len(run_id) > 256:
        raise ValueError(f"run id of {len(run_id)} characters")
    return run_id
