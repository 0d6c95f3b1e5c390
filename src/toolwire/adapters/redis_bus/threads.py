"""`RedisThreadStore`: every instance's threads in Redis, expiring when idle.

Keys of one user share the hash tag of the user, so on Redis Cluster one script reads and
writes a thread, its turns and the user's index together:

- `<prefix>:threads:{<user>}`: the user's threads, a sorted set scored by last activity;
- `<prefix>:thread:{<user>}:<thread>`: the thread (title, times, turn count, the run
  going on it), a hash;
- `<prefix>:thread:{<user>}:<thread>:turns`: its turns' JSON text, oldest first, a list.

User and thread ids are percent-encoded in key names, so no choice of ids makes two users'
keys meet. Every write refreshes the expiry (`retention_s`) of the three keys; a thread that
expired leaves its index entry, which is dropped when next seen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, cast
from urllib.parse import quote

from toolwire.adapters.redis_bus.connect import RedisConnector, RedisOptions
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.services.threads.cursor import decode_cursor, encode_cursor
from toolwire.services.threads.history import HistoryBounds, StoredHistory, bound_texts
from toolwire.services.threads.models import (
    ThreadDetail,
    ThreadPage,
    ThreadSummary,
    Turn,
    title_of,
)
from toolwire.services.wire_json import timestamp

log = logging.getLogger(__name__)

_CREATE: Final = """
if redis.call('HSETNX', KEYS[1], 'created', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'title', ARGV[2], 'count', 0)
end
redis.call('HSET', KEYS[1], 'updated', ARGV[1])
"""
"""Create the thread (KEYS[1]) if new, at time ARGV[1] with title ARGV[2]; mark it active."""

_KEEP: Final = """
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[1]) - ARGV[4] / 1000))
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
"""
"""Index thread ARGV[3] in KEYS[2] and refresh the expiry ARGV[4] (ms) of all three keys."""

_CLAIM: Final = """
local holder = redis.call('HGET', KEYS[1], 'run')
if holder and holder ~= ARGV[5] and tonumber(redis.call('HGET', KEYS[1], 'run_until'))
    > tonumber(ARGV[1]) then
  return holder
end
""" + _CREATE + """
redis.call('HSET', KEYS[1], 'run', ARGV[5], 'run_until', ARGV[6])
""" + _KEEP
"""Return the holder of the thread unless run ARGV[5] may hold it; then claim it."""

CLAIM: Final = _CLAIM + "return false\n"
"""KEYS: thread, index, turns. ARGV: now, title, thread id, ttl ms, run id, held until."""

CLAIM_READING: Final = _CLAIM + """
if tonumber(ARGV[7]) <= 0 then return {false} end
return {false, redis.call('LRANGE', KEYS[3], -tonumber(ARGV[7]), -1)}
"""
"""CLAIM, and once it holds, the newest ARGV[7] turns too: the holder, or {false, turns}."""

APPEND: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
""" + _CREATE + """
redis.call('HINCRBY', KEYS[1], 'count', 1)
if redis.call('HGET', KEYS[1], 'run') == ARGV[5] then
  redis.call('HDEL', KEYS[1], 'run', 'run_until')
end
redis.call('RPUSH', KEYS[3], ARGV[6])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[7]), -1)
""" + _KEEP
"""KEYS: thread, index, turns. ARGV: now, title, thread id, ttl ms, run id, turn, max turns."""

RELEASE: Final = """
if redis.call('HGET', KEYS[1], 'run') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'run', 'run_until')
end
"""

DELETE: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return false
end
local turns = redis.call('LRANGE', KEYS[3], 0, -1)
local run = redis.call('HGET', KEYS[1], 'run')
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[1])
return {run or '', turns}
"""
"""Erase a thread; return false when there was none, else the run going and the turns."""

LIST_EXTRA: Final = 32
"""Index entries read beyond a page (threads expired meanwhile, or tied on the cursor)."""


def _ident(text: str) -> str:
    return quote(text, safe="")


class RedisThreadStore:
    """The `ThreadStore` shared by every instance on one Redis (or Redis Cluster)."""

    def __init__(
        self,
        *,
        url: str,
        prefix: str = "toolwire",
        cluster: bool = False,
        pool_size: int = 32,
        pool_timeout_s: float = 5.0,
        retention_s: float = 30 * 24 * 3600.0,
        max_stored_turns: int = 1000,
        tls_ca_file: str | None = None,
        tls_cert_file: str | None = None,
        tls_key_file: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._connector = RedisConnector(RedisOptions(
            url=url, cluster=cluster, pool_size=pool_size, pool_timeout_s=pool_timeout_s,
            tls_ca_file=tls_ca_file, tls_cert_file=tls_cert_file, tls_key_file=tls_key_file))
        self._prefix = prefix
        self._run_keys = RedisKeys(prefix)
        self._ttl_ms = max(1, round(retention_s * 1000))
        self._max_stored_turns = max_stored_turns
        self._clock = clock

    def keys(self, user_id: str, thread_id: str) -> tuple[str, str, str]:
        """Return the keys of a thread: its hash, the user's index and its turns."""
        tag = "{" + _ident(user_id) + "}"
        thread = f"{self._prefix}:thread:{tag}:{_ident(thread_id)}"
        return thread, f"{self._prefix}:threads:{tag}", thread + ":turns"

    async def claim(
        self, user_id: str, thread_id: str, run_id: str, *, message: str, hold_s: float
    ) -> str | None:
        """Make `run_id` the thread's run unless another live claim holds it."""
        now = self._clock()
        holder = await self._eval(CLAIM, self.keys(user_id, thread_id), repr(now),
                                  title_of(message), thread_id, self._ttl_ms, run_id,
                                  repr(now + hold_s), admission=True)
        return holder.decode() if isinstance(holder, bytes) else None

    async def claim_reading(
        self, user_id: str, thread_id: str, run_id: str, *, message: str, hold_s: float,
        max_turns: int, max_bytes: int,
    ) -> tuple[str | None, Sequence[Turn]]:
        """Claim the thread and read its newest turns in one script call."""
        now = self._clock()
        found = await self._eval(CLAIM_READING, self.keys(user_id, thread_id), repr(now),
                                 title_of(message), thread_id, self._ttl_ms, run_id,
                                 repr(now + hold_s), max_turns, admission=True)
        if isinstance(found, bytes):
            return found.decode(), ()
        texts = cast("list[bytes]", found[1]) if len(found) > 1 else []
        if not texts:
            return None, ()
        return None, StoredHistory(bound_texts(texts, HistoryBounds(max_turns, max_bytes)))

    async def release(self, user_id: str, thread_id: str, run_id: str) -> None:
        """Drop `run_id`'s claim on the thread."""
        await self._eval(RELEASE, self.keys(user_id, thread_id)[:1], run_id)

    async def append(self, user_id: str, thread_id: str, turn: Turn) -> None:
        """Add `turn` to the thread (unless deleted since its claim); drop its run's claim."""
        await self._eval(APPEND, self.keys(user_id, thread_id), repr(self._clock()),
                         title_of(turn.message), thread_id, self._ttl_ms, turn.run_id,
                         turn.encoded(), self._max_stored_turns)

    async def history(self, user_id: str, thread_id: str, *, max_turns: int,
                      max_bytes: int) -> Sequence[Turn]:
        """Return the thread's latest whole turns within the bounds, oldest first."""
        if max_turns <= 0:
            return ()
        async with self._connector.slot() as client:
            texts = cast("list[bytes]", await client.lrange(
                self.keys(user_id, thread_id)[2], -max_turns, -1))
        if not texts:
            return ()
        return StoredHistory(bound_texts(texts, HistoryBounds(max_turns, max_bytes)))

    async def get(self, user_id: str, thread_id: str) -> ThreadDetail | None:
        """Return the thread and its kept turns."""
        thread, _, turns = self.keys(user_id, thread_id)
        async with self._connector.slot() as client:
            pipe = client.pipeline(transaction=False)
            pipe.hgetall(thread)
            pipe.lrange(turns, 0, -1)
            fields, texts = await pipe.execute()
        if not fields:
            return None
        active = fields.get(b"run")
        if active is not None and float(fields.get(b"run_until", 0)) <= self._clock():
            active = None
        return ThreadDetail(_summary(thread_id, fields), tuple(self._turns(texts)),
                            active.decode() if active else None)

    async def list_threads(
        self, user_id: str, *, limit: int, before: str | None = None
    ) -> ThreadPage:
        """Return the user's threads, most recently active first, after the cursor."""
        after = decode_cursor(before) if before else None
        _, index, _ = self.keys(user_id, "")
        top: float | str = after[0] if after else "+inf"
        page: list[tuple[float, ThreadSummary]] = []
        offset = 0
        while True:
            async with self._connector.slot() as client:
                entries = cast("list[tuple[bytes, float]]", await client.zrevrangebyscore(
                    index, top, "-inf", start=offset, num=limit + 1 + LIST_EXTRA,
                    withscores=True))
            fresh: list[tuple[str, float]] = []
            for member, score in entries:
                entry = (member.decode(), float(score))
                if after is None or (entry[1], entry[0]) < after:
                    fresh.append(entry)
            offset += len(entries)
            found = await self._summaries(user_id, index, [tid for tid, _ in fresh])
            page += [(score, summary) for (_, score), summary in zip(fresh, found, strict=True)
                     if summary is not None]
            if len(page) > limit or len(entries) < limit + 1 + LIST_EXTRA:
                break
        more = len(page) > limit
        page = page[:limit]
        cursor = encode_cursor(page[-1][0], page[-1][1].thread_id) if more else None
        return ThreadPage(tuple(summary for _, summary in page), cursor)

    async def delete(self, user_id: str, thread_id: str) -> Sequence[str] | None:
        """Erase the thread, then the retained events of its runs."""
        thread_keys = self.keys(user_id, thread_id)
        found = await self._eval(DELETE, thread_keys, thread_id)
        if not found:
            return None
        active, texts = cast("tuple[bytes, list[bytes]]", found)
        run_ids = [turn.run_id for turn in self._turns(texts)]
        if active:
            run_ids.append(active.decode())
        await self._erase_runs(user_id, run_ids)
        return run_ids

    async def aclose(self) -> None:
        """Close the connections."""
        await self._connector.aclose()

    async def _erase_runs(self, user_id: str, run_ids: Sequence[str]) -> None:
        """Delete the runs' event streams (they hold the thread's text) if they are the user's."""
        if not run_ids:
            return
        keys = self._run_keys
        async with self._connector.slot() as client:
            pipe = client.pipeline(transaction=False)
            for run_id in run_ids:
                pipe.get(keys.owner(run_id))
            owners = await pipe.execute()
            pipe = client.pipeline(transaction=False)
            for run_id, owner in zip(run_ids, owners, strict=True):
                if owner is None or owner.decode() == user_id:
                    pipe.delete(keys.stream(run_id), keys.owner(run_id))
            pipe.zrem(keys.user_runs(user_id), *run_ids)
            await pipe.execute()

    async def _summaries(
        self, user_id: str, index: str, thread_ids: Sequence[str]
    ) -> list[ThreadSummary | None]:
        if not thread_ids:
            return []
        async with self._connector.slot() as client:
            pipe = client.pipeline(transaction=False)
            for thread_id in thread_ids:
                pipe.hgetall(self.keys(user_id, thread_id)[0])
            rows = await pipe.execute()
            gone = [tid for tid, fields in zip(thread_ids, rows, strict=True) if not fields]
            if gone:
                await client.zrem(index, *gone)
        return [_summary(tid, fields) if fields else None
                for tid, fields in zip(thread_ids, rows, strict=True)]

    async def _eval(self, script: str, keys: Sequence[str], *args: Any,
                    admission: bool = False) -> Any:
        slot = self._connector.admission_slot() if admission else self._connector.slot()
        async with slot as client:
            return await client.execute_command("EVAL", script, len(keys), *keys, *args)

    @staticmethod
    def _turns(texts: Sequence[bytes]) -> list[Turn]:
        turns = []
        for text in texts:
            try:
                turns.append(Turn.from_json(text))
            except ValueError as exc:
                log.warning("skipped a malformed stored turn: %s", exc)
        return turns


def _summary(thread_id: str, fields: dict[bytes, bytes]) -> ThreadSummary:
    return ThreadSummary(
        thread_id=thread_id, title=fields.get(b"title", b"").decode(),
        created_at=timestamp(float(fields[b"created"])),
        updated_at=timestamp(float(fields[b"updated"])),
        turns=int(fields.get(b"count", 0)))
