"""`RunLeases`: which instance runs each run, and who ends a run whose instance died.

The owner of a run holds `lease` (`SET … PX lease_s`) from its first event on; the append
script refuses an instance that does not hold it. Every `lease_s / 3` one script call per
hash slot (one round trip for all of this instance's runs) renews the leases, reports runs
a cancel request was recorded for (the durable half of a cancel) and runs another instance
ended, and (with `keep_alive`) the instance's liveness key: its users' sockets count while it
lives. The same round notes each lease's lapse time in one sorted set; every instance reads the
lapsed ones and tries `_TAKE_OVER`, which succeeds for exactly one instance and only while the
lease is gone and the stream has not moved, then publishes the run's end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Final, cast

from redis.crc import key_slot

from toolwire.adapters.redis_bus.connect import RedisConnector
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.adapters.redis_bus.ledger import IF_HELD
from toolwire.adapters.redis_bus.store import RunStreamStore
from toolwire.services.events import AgentCompleted, ErrorInfo, RunEvent, ToolCompleted
from toolwire.services.wire_json import timestamp

log = logging.getLogger(__name__)

RENEWALS_PER_LEASE: Final = 3
"""Renewal rounds within one `lease_s`: two may fail before a lease lapses."""
SWEEP_BATCH: Final = 64
"""Lapsed runs one round tries to end."""

_RENEW: Final = """
local host, lease_ms = ARGV[1], ARGV[2]
local out = {}
for i = 1, #KEYS / 2 do
  local lease, cancel = KEYS[2 * i - 1], KEYS[2 * i]
  local holder = redis.call('GET', lease)
  if holder == host then
    redis.call('PEXPIRE', lease, lease_ms)
    out[i] = 1
  elseif not holder then
    redis.call('SET', lease, host, 'PX', lease_ms)
    out[i] = 1
  else
    out[i] = 0
  end
  if out[i] == 1 and redis.call('EXISTS', cancel) == 1 then out[i] = 2 end
end
return out
"""
"""Renew each lease this instance holds (or took back after a late renewal nobody noticed):
1 renewed, 2 renewed and a cancel is recorded, 0 another instance holds or ended the run."""

_TAKE_OVER: Final = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local last_id = last[1] and last[1][1] or '0-0'
if last_id ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
"""Take a lapsed lease if the stream still ends at the entry that was read: 1 taken, else 0."""

INTERRUPTED: Final = ErrorInfo(
    "interrupted", "the server running this run stopped; another one ended the run")
TOOL_INTERRUPTED: Final = ErrorInfo(
    "interrupted", "the server running this tool call stopped before it finished")


class RunLeases:
    """Holds the leases of this instance's runs and ends the runs whose owner died."""

    def __init__(
        self,
        connector: RedisConnector,
        keys: RedisKeys,
        store: RunStreamStore,
        *,
        host_id: str,
        lease_s: float,
        retention_s: float,
        on_cancel: Callable[[str], None],
        deliver: Callable[[str, RunEvent], None],
        keep_alive: bool = False,
        cluster: bool = False,
    ) -> None:
        self._connector = connector
        self._keys = keys
        self._store = store
        self._host_id = host_id
        self._lease_ms = max(1, round(lease_s * 1000))
        self._retention_ms = max(1, round(retention_s * 1000))
        self._period_s = lease_s / RENEWALS_PER_LEASE
        self._on_cancel = on_cancel
        self._deliver = deliver
        self._keep_alive = keep_alive
        self._cluster = cluster
        self._mine: dict[str, str] = {}  # run_id -> user_id
        self._acted: set[str] = set()  # runs this instance was told to stop
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopped = False

    def hold(self, run_id: str, user_id: str) -> None:
        """Keep renewing the lease of `run_id` (its events are published here)."""
        self._mine.setdefault(run_id, user_id)
        self.start()

    def release(self, run_id: str) -> None:
        """Stop renewing `run_id`: it ended, or this instance stopped running it.

        A run released before its end was published keeps its lapse time in the index, so
        once its lease lapses an instance (this one included) ends it.
        """
        self._mine.pop(run_id, None)
        self._acted.discard(run_id)

    def start(self) -> None:
        """Start the renewal and sweep rounds (idempotent)."""
        if self._task is None and not self._stopped:
            self._task = asyncio.get_running_loop().create_task(
                self._rounds(), name="redis-bus-leases")

    def check_now(self) -> None:
        """Run a round at once (after a reconnect: cancels may have been recorded meanwhile)."""
        self._wake.set()

    async def aclose(self) -> None:
        """Stop the rounds; the leases left behind lapse and a survivor ends their runs."""
        self._stopped = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])  # a cancel of the caller itself still propagates

    async def end_if_orphaned(self, run_id: str) -> bool:
        """End `run_id` as interrupted if its lease lapsed; return True when this call ended it.

        Exactly one caller anywhere wins a lapsed lease; the others (and every call while the
        owner holds the lease) return False.
        """
        async with self._connector.slot() as client:
            pipe = client.pipeline(transaction=False)
            pipe.exists(self._keys.lease(run_id))
            pipe.get(self._keys.owner(run_id))
            leased, owner = await pipe.execute()
        if leased or not isinstance(owner, bytes):
            return False  # its instance holds it (or it ended), or the run is unknown
        user_id = owner.decode()
        events = await self._store.replay(run_id)
        if not events or events[-1].type == "agent_completed":
            return False
        last = events[-1]
        async with self._connector.slot() as client:
            taken = await client.eval(
                _TAKE_OVER, 2, self._keys.lease(run_id), self._keys.stream(run_id),
                self._host_id, self._lease_ms, f"{last.seq}-1")
        if taken != 1:
            return False
        for event in _ending(events):
            await self._store.append(user_id, event)
            self._deliver(user_id, event)
        log.warning("ended run %s as interrupted: its instance stopped renewing its lease",
                    run_id, extra={"run_id": run_id, "user_id": user_id})
        request_id = str(events[0].data.get("request_id", ""))
        async with self._connector.slot() as client:
            pipe = client.pipeline(transaction=False)
            pipe.zrem(self._keys.leased_runs(), run_id)
            pipe.zrem(self._keys.running(user_id), run_id)  # its quota place is free
            if request_id:  # a retry replays it for `retention_s`, as after any end
                pipe.execute_command("EVAL", IF_HELD, 1, self._keys.request(user_id, request_id),
                                     run_id, self._retention_ms)
            await pipe.execute()
        return True

    async def _rounds(self) -> None:
        # A stop flag as well as the cancel: a Redis client may turn a cancel into an error.
        while not self._stopped:
            try:
                await self._renew()
                await self._sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("lease round failed (%s); retrying", type(exc).__name__)
                log.debug("lease round failure", exc_info=exc)
            if self._stopped:
                return
            self._wake.clear()
            woken = asyncio.get_running_loop().create_task(self._wake.wait())
            try:
                await asyncio.wait([woken], timeout=self._period_s)
            finally:
                woken.cancel()

    async def _renew(self) -> None:
        """Renew every lease held here, and this instance's liveness, in one round trip; act
        on cancels and lost runs."""
        runs = list(self._mine)
        if not runs and not self._keep_alive:
            return
        replies = await self._send_renewals(runs, round(time.time() * 1000) + self._lease_ms)
        for run_id, reply in zip(runs, replies, strict=True):
            if reply == 1 or run_id not in self._mine or run_id in self._acted:
                continue
            self._acted.add(run_id)
            if reply == 0:
                log.warning("run %s was ended by another instance; stopping it here", run_id,
                            extra={"run_id": run_id, "user_id": self._mine[run_id]})
            self._on_cancel(run_id)

    async def _send_renewals(self, runs: list[str], lapse_ms: int) -> list[int]:
        groups: dict[int, list[str]] = {}
        for run_id in runs:
            slot = key_slot(self._keys.lease(run_id).encode()) if self._cluster else 0
            groups.setdefault(slot, []).append(run_id)
        async with self._connector.slot() as client:
            pipe = client.pipeline(transaction=False)
            for group in groups.values():
                keys = [key for run in group
                        for key in (self._keys.lease(run), self._keys.cancel(run))]
                pipe.execute_command("EVAL", _RENEW, len(keys), *keys,
                                     self._host_id, self._lease_ms)
            if runs:
                pipe.zadd(self._keys.leased_runs(), dict.fromkeys(runs, lapse_ms))
            if self._keep_alive:
                pipe.set(self._keys.alive(self._host_id), 1, px=self._lease_ms)
            replies = await pipe.execute()
        by_run: dict[str, int] = {}
        for group, reply in zip(groups.values(), replies, strict=False):
            by_run.update(zip(group, (int(r) for r in reply), strict=True))
        return [by_run[run_id] for run_id in runs]

    async def _sweep(self) -> None:
        """Try to end each run whose lease lapse time has passed (other instances' runs)."""
        now_ms = round(time.time() * 1000)
        async with self._connector.slot() as client:
            lapsed = cast("list[bytes]", await client.zrangebyscore(
                self._keys.leased_runs(), "-inf", now_ms, start=0, num=SWEEP_BATCH))
        for raw in lapsed:
            run_id = raw.decode()
            if run_id in self._mine:
                continue
            if not await self.end_if_orphaned(run_id) and not await self._still_leased(run_id):
                async with self._connector.slot() as client:
                    await client.zrem(self._keys.leased_runs(), run_id)

    async def _still_leased(self, run_id: str) -> bool:
        async with self._connector.slot() as client:
            holder = await client.get(self._keys.lease(run_id))
        return isinstance(holder, bytes) and not holder.startswith(b"-")


def _ending(events: list[RunEvent]) -> list[RunEvent]:
    """Return the events that end an interrupted run: open tool calls cancelled, then the end."""
    open_calls: dict[str, str] = {}
    for event in events:
        if event.type == "tool_executing":
            open_calls[str(event.data["call_id"])] = str(event.data["tool"])
        elif event.type == "tool_completed":
            open_calls.pop(str(event.data["call_id"]), None)
    last = events[-1]
    started = _unix(events[0].ts)
    now = time.time()
    elapsed_ms = round(max(0.0, now - started) * 1000, 3) if started else 0.0
    payloads: list[ToolCompleted | AgentCompleted] = [
        ToolCompleted(tool=tool, call_id=call_id, status="cancelled", duration_ms=0.0,
                      error=TOOL_INTERRUPTED)
        for call_id, tool in open_calls.items()]
    payloads.append(AgentCompleted("error", elapsed_ms, error=INTERRUPTED))
    return [RunEvent.stamp(payload, run_id=last.run_id, thread_id=last.thread_id,
                           seq=last.seq + n, ts=timestamp(now))
            for n, payload in enumerate(payloads, start=1)]


def _unix(ts: str) -> float:
    """Return the Unix time of a wire timestamp (0 when unreadable)."""
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
