"""`RunStreamStore`: each run's events in a Redis Stream, written in batches.

One writer per instance sends every append that is pending at once: one script call for the
whole batch (on Redis Cluster one per hash slot, in one pipeline), so N runs publishing at
once cost one round trip and one command, not N. The script checks that this instance holds
the run's lease (fencing: an instance whose run was ended elsewhere cannot add to it), stores
each event under the stream id `<seq>-1` (a repeat of a seq is refused, so storing is
idempotent), refreshes the run's expiry and owner, and announces the event on its user's
channel, prefixed with the instance id so the instance can drop its own echo unread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Final, cast

from redis.crc import key_slot
from redis.exceptions import NoScriptError, ResponseError

from toolwire.adapters.redis_bus.connect import RedisConnector
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.services.errors import RunTakenOverError
from toolwire.services.events import RunEvent

log = logging.getLogger(__name__)

PROBE_TTL_MS: Final = 10_000
PROBE_TAGS_TRIED: Final = 100_000
"""Hash tags tried to find a probe key for each master (a few dozen suffice)."""
LIVE_TTL_S: Final = 24 * 3600.0
"""How much longer than `retention_s` a run still going keeps its keys."""

_APPEND: Final = """
local maxlen, live_ttl, end_ttl, host, channels, lease_ms =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local stored, failed = {}, {}
for i = 1, #KEYS / 3 do
  local stream, owner, lease, at = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], 6 + (i - 1) * 4
  local id, text, ttl, user = ARGV[at + 1], ARGV[at + 2], live_ttl, ARGV[at + 4]
  local final = ARGV[at + 3] == '1'
  if final then ttl = end_ttl end
  local holder = redis.call('GET', lease)
  if failed[stream] then
    stored[i] = {err = 'SKIPPED an earlier event of the run in this batch was not stored'}
  elseif holder and holder ~= host and holder ~= '-' .. host then
    stored[i] = {err = 'TAKEN the run is leased by another instance, or ended by one'}
    failed[stream] = true
  else
    local added = redis.pcall('XADD', stream, 'MAXLEN', maxlen, id, 'event', text)
    local refused = type(added) == 'table' and added.err
    if refused and not string.find(refused, 'equal or smaller') then
      stored[i] = added
      failed[stream] = true
    else
      stored[i] = refused and 0 or 1
      if final then
        redis.call('SET', lease, '-' .. host, 'PX', end_ttl)
      elseif not holder then
        redis.call('SET', lease, host, 'PX', lease_ms)
      end
      redis.call('PEXPIRE', stream, ttl)
      redis.call('SET', owner, user, 'PX', ttl)
      redis.call('PUBLISH', channels .. user, host .. text)
    end
  end
end
return stored
"""
"""Store a batch of events (three keys and four arguments each) if this instance holds each
run's lease (taking a lapsed one back; the final event marks the lease ended); one result
each: 1 stored, 0 a repeat of a stored seq (announced again, harmless: receivers drop
repeats), or an error (`TAKEN` when another instance holds or ended the run; `SKIPPED` for a
run's event after one of its events in the batch failed: a stream takes no seq below its
last, so a later event stored first would leave a hole no retry could fill)."""


@dataclass(slots=True, eq=False)
class _Append:
    user_id: str
    event: RunEvent
    ahead: bool = False  # handed over before the run's earlier events were known stored
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop()
                                       .create_future())


class RunStreamStore:
    """Appends, reads and expires the run streams of one bus instance."""

    def __init__(
        self,
        connector: RedisConnector,
        keys: RedisKeys,
        *,
        host_id: str,
        retention_s: float,
        max_events: int,
        lease_s: float = 10.0,
        cluster: bool = False,
    ) -> None:
        self._connector = connector
        self._keys = keys
        self._cluster = cluster
        self._retention_ms = max(1, round(retention_s * 1000))
        live_ttl_ms = self._retention_ms + round(LIVE_TTL_S * 1000)
        self._max_events = max_events
        self._lease_ms = max(1, round(lease_s * 1000))
        self._script_args = (max_events, live_ttl_ms, self._retention_ms, host_id,
                             keys.user_channel(""), self._lease_ms)
        self._host_id = host_id
        self._probe_by_node: dict[str, str] = {}
        self._pending: list[_Append] = []
        self._writer: asyncio.Task[None] | None = None
        self._failed_runs: set[str] = set()  # runs an event of which was not stored
        self._sha: str | None = None
        self._closed = False

    async def append(self, user_id: str, event: RunEvent) -> None:
        """Store `event` and announce it; return once Redis has both.

        The event's own cached encoding is what is stored and announced: never re-encoded.
        """
        self._failed_runs.discard(event.run_id)  # the run publishes again from here, in order
        await self._queue(_Append(user_id, event))

    def append_soon(self, user_id: str, event: RunEvent) -> asyncio.Future[None]:
        """Queue `event` for the next batch behind the run's earlier events; return the
        future of its outcome (cancelling it before the batch is sent drops the event).

        Once an event of the run failed, its later events queued this way fail too, unsent,
        until `append` stores one again: no later event is stored before an earlier one.
        """
        return self._queue(_Append(user_id, event, ahead=True))

    def _queue(self, item: _Append) -> asyncio.Future[None]:
        if self._closed:
            raise ConnectionError("the event store is closed")
        self._pending.append(item)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(
                self._write(), name="redis-bus-writer")
        return item.done

    def forget_run(self, run_id: str) -> None:
        """The run publishes nothing more here: drop what the store remembers of it."""
        self._failed_runs.discard(run_id)

    async def replay(self, run_id: str, after_seq: int = 0) -> list[RunEvent]:
        """Return the stored events of `run_id` with `seq > after_seq`, in order."""
        async with self._connector.slot() as client:
            entries = cast("list[tuple[bytes, dict[bytes, bytes]]]", await client.xrange(
                self._keys.stream(run_id), min=f"{after_seq + 1}-0"))
        events = []
        for entry_id, fields in entries:
            try:
                events.append(RunEvent.from_json(fields[b"event"]))
            except (KeyError, ValueError) as exc:
                log.warning("skipped malformed entry %r of run %s: %s", entry_id, run_id, exc)
        return events

    async def owner(self, run_id: str) -> str | None:
        """Return the user of a stored run; None when unknown, expired or evicted.

        The stream counts too: Redis may evict it under `maxmemory` before the owner key.
        """
        async with self._connector.slot() as client:
            pipe = client.pipeline(transaction=False)
            pipe.get(self._keys.owner(run_id))
            pipe.exists(self._keys.stream(run_id))
            owner, kept = await pipe.execute()
        return owner.decode() if isinstance(owner, bytes) and kept else None

    async def runs_since(self, user_id: str, since_s: float) -> list[str]:
        """Return the user's runs that started at or after `since_s` (Unix time)."""
        async with self._connector.slot() as client:
            members = await client.zrangebyscore(
                self._keys.user_runs(user_id), round(since_s * 1000), "+inf")
        return [m.decode() for m in cast("list[bytes]", members)]

    async def announce(self, channel: bytes, message: str) -> None:
        """Publish `message` on `channel`."""
        async with self._connector.slot() as client:
            await client.publish(channel, message)

    async def probe(self) -> bool:
        """Write a short-lived key on every master; return True when all took it.

        PING is not enough: a Cluster that lost a master still answers it on the others.
        """
        async with self._connector.slot() as client:
            if self._cluster:
                await client.initialize()  # learns the masters once; a no-op afterwards
            pipe = client.pipeline(transaction=False)
            for key in self._probe_keys(client):
                pipe.set(key, self._host_id, px=PROBE_TTL_MS)
            replies = await pipe.execute()
        return all(replies)

    def _probe_keys(self, client: Any) -> list[str]:
        """Return one key per master (one key without Cluster)."""
        if not self._cluster:
            return [self._keys.probe(0)]
        wanted = {node.name for node in client.get_primaries()}
        if set(self._probe_by_node) != wanted:
            self._probe_by_node = {}
            for tag in range(PROBE_TAGS_TRIED):
                key = self._keys.probe(tag)
                node = client.get_node_from_key(key).name
                if node in wanted:
                    self._probe_by_node.setdefault(node, key)
                if len(self._probe_by_node) == len(wanted):
                    break
        return list(self._probe_by_node.values())

    async def aclose(self) -> None:
        """Fail what is still pending and stop the writer."""
        self._closed = True
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            try:
                await writer
            except asyncio.CancelledError:
                if not writer.cancelled():
                    raise
        self._fail(self._pending, ConnectionError("the event store closed"))
        self._pending = []

    async def _write(self) -> None:
        """Send every pending append as one pipeline, again and again until none is left."""
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                batch = [item for item in batch if self._still_wanted(item)]
                if batch:
                    await self._write_batch(batch)
        finally:
            self._writer = None

    def _still_wanted(self, item: _Append) -> bool:
        """Return False for an append whose caller left, or that must not overtake a failed
        event of its run (failed here)."""
        if item.done.done():
            return False  # its caller was cancelled
        if item.ahead and item.event.run_id in self._failed_runs:
            item.done.set_exception(ConnectionError("an earlier event of the run was not stored"))
            return False
        return True

    async def _write_batch(self, batch: list[_Append]) -> None:
        try:
            results = await self._send(batch)
            if any(isinstance(result, NoScriptError) for result in results):
                self._sha = None  # Redis restarted and forgot the script: load it, send again
                results = await self._send(batch)
        except asyncio.CancelledError:
            self._fail(batch, ConnectionError("the event store closed"))
            raise
        except Exception as exc:
            self._failed_runs.update(item.event.run_id for item in batch)
            self._fail(batch, exc)
            return
        for item, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                self._failed_runs.add(item.event.run_id)
            if item.done.done():
                continue
            if isinstance(result, Exception):
                item.done.set_exception(_taken_over(result))
            else:
                item.done.set_result(None)

    async def _send(self, batch: list[_Append]) -> list[Any]:
        """Run one pipeline for `batch`; return one result (or error) per append."""
        groups = self._by_slot(batch) if self._cluster else [batch]
        async with self._connector.slot() as client:
            if self._sha is None:
                self._sha = await client.script_load(_APPEND)
            pipe = client.pipeline(transaction=False)
            for group in groups:
                keys: list[str] = []
                args: list[Any] = []
                for item in group:
                    event = item.event
                    keys += [self._keys.stream(event.run_id), self._keys.owner(event.run_id),
                             self._keys.lease(event.run_id)]
                    args += [f"{event.seq}-1", event.encoded(),
                             "1" if event.type == "agent_completed" else "0", item.user_id]
                # not pipe.evalsha: redis-py refuses that name in a Cluster pipeline
                pipe.execute_command("EVALSHA", self._sha, len(keys), *keys,
                                     *self._script_args, *args)
            self._queue_index(pipe, batch)
            replies = await pipe.execute(raise_on_error=False)
        results: dict[int, Any] = {}
        for group, reply in zip(groups, replies, strict=False):
            for position, item in enumerate(group):
                results[id(item)] = reply if isinstance(reply, Exception) else reply[position]
        return [results[id(item)] for item in batch]

    def _queue_index(self, pipe: Any, batch: list[_Append]) -> None:
        """Note each run that starts in the leased runs (read by every instance to end runs
        whose lease lapsed); drop each run that ends from them. (The user's run index is
        written when the run is admitted: `RedisRunAdmission`.)"""
        now_ms = round(time.time() * 1000)
        for item in batch:
            if item.event.type == "agent_completed":
                pipe.zrem(self._keys.leased_runs(), item.event.run_id)
            elif item.event.seq == 1:
                pipe.zadd(self._keys.leased_runs(), {item.event.run_id: now_ms + self._lease_ms})

    def _by_slot(self, batch: list[_Append]) -> list[list[_Append]]:
        groups: dict[int, list[_Append]] = {}
        for item in batch:
            slot = key_slot(self._keys.stream(item.event.run_id).encode())
            groups.setdefault(slot, []).append(item)
        return list(groups.values())

    @staticmethod
    def _fail(batch: list[_Append], exc: BaseException) -> None:
        for item in batch:
            if not item.done.done():
                item.done.set_exception(exc)



def _taken_over(error: Exception) -> Exception:
    """Return `RunTakenOverError` for the script's `TAKEN` refusal, else `error`."""
    if isinstance(error, ResponseError) and str(error).startswith("TAKEN"):
        return RunTakenOverError(str(error).removeprefix("TAKEN "))
    return error
