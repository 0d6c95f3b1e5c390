"""`RunStreamStore`: each run's events in a Redis Stream, written in pipelined batches.

One writer per instance sends every append that is pending as one pipeline, so N runs
publishing at once cost one round trip, not N. Each append is one script call that stores the
event under the stream id `<seq>-1` (a repeat of a seq is refused, so storing is idempotent),
refreshes the run's expiry and owner, and announces the event on the user's channel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Final, cast

from redis.exceptions import NoScriptError

from toolwire.adapters.redis_bus.connect import RedisConnector
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.services.events import RunEvent

log = logging.getLogger(__name__)

LIVE_TTL_S: Final = 24 * 3600.0
"""How much longer than `retention_s` a run still going keeps its keys."""

_APPEND: Final = """
local added = redis.pcall('XADD', KEYS[1], 'MAXLEN', ARGV[1], ARGV[2], 'event', ARGV[3])
if type(added) == 'table' and added.err then
  if not string.find(added.err, 'equal or smaller') then
    return redis.error_reply(added.err)
  end
  added = false
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[4])
redis.call('PUBLISH', ARGV[6], ARGV[7])
if added then return 1 end
return 0
"""


@dataclass(slots=True, eq=False)
class _Append:
    user_id: str
    event: RunEvent
    text: str
    announcement: str
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop()
                                       .create_future())


class RunStreamStore:
    """Appends, reads and expires the run streams of one bus instance."""

    def __init__(
        self,
        connector: RedisConnector,
        keys: RedisKeys,
        *,
        retention_s: float,
        max_events: int,
    ) -> None:
        self._connector = connector
        self._keys = keys
        self._retention_ms = max(1, round(retention_s * 1000))
        self._live_ttl_ms = self._retention_ms + round(LIVE_TTL_S * 1000)
        self._max_events = max_events
        self._pending: list[_Append] = []
        self._writer: asyncio.Task[None] | None = None
        self._sha: str | None = None
        self._closed = False

    async def append(self, user_id: str, event: RunEvent, text: str, announcement: str) -> None:
        """Store `event` (its JSON `text`) and announce it; return once Redis has both."""
        if self._closed:
            raise ConnectionError("the event store is closed")
        item = _Append(user_id, event, text, announcement)
        self._pending.append(item)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(
                self._write(), name="redis-bus-writer")
        await item.done

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
        """Return the user of a stored run, or None."""
        async with self._connector.slot() as client:
            owner = await client.get(self._keys.owner(run_id))
        return owner.decode() if isinstance(owner, bytes) else None

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

    async def ping(self) -> bool:
        """Return True when Redis answers PING."""
        async with self._connector.slot() as client:
            return bool(await client.ping())

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
                batch = [item for item in batch if not item.done.done()]  # cancelled callers
                if batch:
                    await self._write_batch(batch)
        finally:
            self._writer = None

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
            self._fail(batch, exc)
            return
        for item, result in zip(batch, results, strict=True):
            if item.done.done():
                continue
            if isinstance(result, Exception):
                item.done.set_exception(result)
            else:
                item.done.set_result(None)

    async def _send(self, batch: list[_Append]) -> list[Any]:
        """Run one pipeline for `batch`; return one result (or error) per append."""
        async with self._connector.slot() as client:
            if self._sha is None:
                self._sha = await client.script_load(_APPEND)
            pipe = client.pipeline(transaction=False)
            calls: list[int] = []
            now_ms = round(time.time() * 1000)
            for item in batch:
                calls.append(len(pipe))
                self._queue_append(pipe, item, now_ms)
            replies = await pipe.execute(raise_on_error=False)
        return [replies[index] for index in calls]

    def _queue_append(self, pipe: Any, item: _Append, now_ms: int) -> None:
        event, keys = item.event, self._keys
        ending = event.type == "agent_completed"
        ttl_ms = self._retention_ms if ending else self._live_ttl_ms
        pipe.execute_command(  # not pipe.evalsha: redis-py blocks that name on Cluster
            "EVALSHA", self._sha, 2, keys.stream(event.run_id), keys.owner(event.run_id),
            self._max_events, f"{event.seq}-1", item.text, ttl_ms, item.user_id,
            keys.user_channel(item.user_id), item.announcement,
        )
        if event.seq == 1:
            index = keys.user_runs(item.user_id)
            pipe.zadd(index, {event.run_id: now_ms})
            pipe.zremrangebyscore(index, "-inf", now_ms - self._live_ttl_ms)
            pipe.pexpire(index, self._live_ttl_ms)

    @staticmethod
    def _fail(batch: list[_Append], exc: BaseException) -> None:
        for item in batch:
            if not item.done.done():
                item.done.set_exception(exc)

