"""`RedisRunAdmission`: a run's quota place, request claim and run-index entry in one script.

The user's keys share the hash tag `{user_id}`, so on Redis Cluster too one script call admits
a run (the claim, both quotas and the user's run index, all or nothing) and one settles it.
The run index (`RedisKeys.user_runs`) notes each run when it is admitted, scored by Redis's
clock: what an instance reads after a reconnect to find the runs it missed.
"""

from __future__ import annotations

from typing import Final

from toolwire.adapters.redis_bus.connect import RedisConnector
from toolwire.adapters.redis_bus.failures import unavailable_on_failure
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.adapters.redis_bus.ledger import IF_HELD_FUNCTION
from toolwire.adapters.redis_bus.quotas import COUNT_RUN, QuotaLimits
from toolwire.adapters.redis_bus.store import LIVE_TTL_S

_ADMIT: Final = COUNT_RUN + """
local running, chats, runs, request = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local run, live_ms = ARGV[1], tonumber(ARGV[5])
if request then
  local held = redis.call('GET', request)
  if held then return {3, held} end
end
local verdict, now = count_run(running, chats, run, tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), 'count')
if verdict[1] ~= 0 then return verdict end
if request then redis.call('SET', request, run, 'PX', live_ms) end
redis.call('ZADD', runs, now, run)
redis.call('ZREMRANGEBYSCORE', runs, '-inf', now - live_ms)
redis.call('PEXPIRE', runs, live_ms)
return {0, 0}
"""
"""KEYS: running, chats, run index[, request]. ARGV: run id, max runs, max chats, hold ms,
live ms. Returns {0} admitted, {1} or {2, ms} refused (see `count_run`), or {3, run id}: the
request's earlier run (nothing counted)."""

_SETTLE: Final = IF_HELD_FUNCTION + """
local running, runs, request = KEYS[1], KEYS[2], KEYS[3]
local run, after = ARGV[1], ARGV[2]
redis.call('ZREM', running, run)
if after == 'forget' then redis.call('ZREM', runs, run) end
if request then if_held(request, run, after) end
return 0
"""
"""KEYS: running, run index[, request]. ARGV: run id, `forget` (undo the admission) or the
ms the request's claim is kept once its run ended."""

EARLIER: Final = 3


class RedisRunAdmission:
    """The `RunAdmission` of every instance on one Redis."""

    def __init__(self, *, connector: RedisConnector, keys: RedisKeys, limits: QuotaLimits,
                 retention_s: float) -> None:
        self._connector = connector
        self._keys = keys
        self._limits = limits
        self._retention_ms = max(1, round(retention_s * 1000))
        self._live_ms = self._retention_ms + round(LIVE_TTL_S * 1000)

    async def admit(self, user_id: str, run_id: str, request_id: str | None) -> str | None:
        """Count the run and claim `request_id` for it, or neither; return an earlier run's
        id, or raise `RateLimitedError`."""
        keys = [self._keys.running(user_id), self._keys.chats(user_id),
                self._keys.user_runs(user_id)]
        if request_id is not None:
            keys.append(self._keys.request(user_id, request_id))
        async with unavailable_on_failure("admitting a run"), \
                self._connector.admission_slot() as client:
            limits = self._limits
            verdict, detail = await client.eval(
                _ADMIT, len(keys), *keys, run_id, limits.runs_per_user,
                limits.chats_per_minute, limits.hold_ms, self._live_ms)
        if verdict == EARLIER:
            return detail.decode() if isinstance(detail, bytes) else str(detail)
        refused = limits.refusal(int(verdict), int(detail))
        if refused is not None:
            raise refused
        return None

    async def release(self, user_id: str, run_id: str, request_id: str | None) -> None:
        """Free the run's place, drop it from the run index and forget its claim."""
        await self._settle(user_id, run_id, request_id, "forget")

    async def settle(self, user_id: str, run_id: str, request_id: str | None) -> None:
        """Free the run's place; keep its claim `retention_s` more."""
        if request_id is not None:
            await self._settle(user_id, run_id, request_id, str(self._retention_ms))
            return
        async with unavailable_on_failure("settling a run"), self._connector.slot() as client:
            await client.zrem(self._keys.running(user_id), run_id)  # no script needed

    async def _settle(self, user_id: str, run_id: str, request_id: str | None,
                      after: str) -> None:
        keys = [self._keys.running(user_id), self._keys.user_runs(user_id)]
        if request_id is not None:
            keys.append(self._keys.request(user_id, request_id))
        async with unavailable_on_failure("settling a run"), self._connector.slot() as client:
            await client.eval(_SETTLE, len(keys), *keys, run_id, after)
