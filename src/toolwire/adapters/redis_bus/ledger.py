"""`RedisRequestLedger`: which run each user's `request_id` started, shared by all instances.

A claim is one key per `(user, request_id)` holding the run id, written only if absent (one
script call, so two instances racing on one retry agree on one run). While the run goes the
key lives as long as a live run's stream; when it ends, `retention_s` more.
"""

from __future__ import annotations

from typing import Final

from toolwire.adapters.redis_bus.connect import RedisConnector
from toolwire.adapters.redis_bus.failures import unavailable_on_failure
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.adapters.redis_bus.store import LIVE_TTL_S

_CLAIM: Final = """
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""
"""Claim the request for ARGV[1] unless held; return the holder's run id, or nil."""

IF_HELD_FUNCTION: Final = """
local function if_held(key, run, after)
  if redis.call('GET', key) ~= run then return 0 end
  if after == 'forget' then return redis.call('DEL', key) end
  return redis.call('PEXPIRE', key, after)
end
"""
"""Lua `if_held`: if `run` holds the claim `key`, forget it now (`after` = `forget`) or keep
it `after` ms more."""

IF_HELD: Final = IF_HELD_FUNCTION + "return if_held(KEYS[1], ARGV[1], ARGV[2])\n"
"""If ARGV[1] holds the claim KEYS[1]: forget it now, or keep it ARGV[2] ms more."""


class RedisRequestLedger:
    """The `RequestLedger` of every instance on one Redis."""

    def __init__(self, *, connector: RedisConnector, keys: RedisKeys, retention_s: float) -> None:
        self._connector = connector
        self._keys = keys
        self._retention_ms = max(1, round(retention_s * 1000))
        self._live_ms = self._retention_ms + round(LIVE_TTL_S * 1000)

    async def claim(self, user_id: str, request_id: str, run_id: str) -> str | None:
        """Record that `request_id` starts `run_id`: None if claimed now, else the holder."""
        async with unavailable_on_failure("claiming a request id"), \
                self._connector.admission_slot() as client:
            held = await client.eval(
                _CLAIM, 1, self._keys.request(user_id, request_id), run_id, self._live_ms)
        if held is None:
            return None
        return held.decode() if isinstance(held, bytes) else str(held)

    async def settle(self, user_id: str, request_id: str, run_id: str) -> None:
        """The run ended: keep its claim `retention_s` more, then forget it."""
        await self._if_held(user_id, request_id, run_id, str(self._retention_ms))

    async def release(self, user_id: str, request_id: str, run_id: str) -> None:
        """Forget the claim now if `run_id` holds it."""
        await self._if_held(user_id, request_id, run_id, "forget")

    async def _if_held(self, user_id: str, request_id: str, run_id: str, then: str) -> None:
        async with unavailable_on_failure("settling a request id"), \
                self._connector.slot() as client:
            await client.eval(IF_HELD, 1, self._keys.request(user_id, request_id), run_id, then)
