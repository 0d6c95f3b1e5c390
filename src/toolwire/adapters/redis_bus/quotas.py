"""`RedisUserQuotas`: `limits.runs_per_user` and `limits.chats_per_minute` for all instances.

One script call per admission checks and counts both limits atomically on Redis's own clock.
A user's running runs are a sorted set scored by when each stops counting even if nobody
releases it (its instance died): the run's longest possible life, and a survivor that ends a
dead instance's run removes it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from toolwire.adapters.redis_bus.connect import RedisConnector
from toolwire.adapters.redis_bus.failures import unavailable_on_failure
from toolwire.adapters.redis_bus.keys import RedisKeys
from toolwire.services.errors import RateLimitedError

HOLD_MARGIN_S: Final = 60.0
"""Added to a run's longest life before an unreleased run stops counting."""

COUNT_RUN: Final = """
local function count_run(running, chats, run, max_runs, max_chats, hold_ms, mode)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', running, '-inf', now)
  if redis.call('ZCARD', running) >= max_runs then return {1, 0}, now end
  redis.call('ZREMRANGEBYSCORE', chats, '-inf', now - 60000)
  if redis.call('ZCARD', chats) >= max_chats then
    local oldest = redis.call('ZRANGE', chats, 0, 0, 'WITHSCORES')
    return {2, tonumber(oldest[2]) + 60000 - now}, now
  end
  if mode == 'check' then return {0, 0}, now end
  redis.call('ZADD', running, now + hold_ms, run)
  redis.call('PEXPIRE', running, hold_ms)
  redis.call('ZADD', chats, now, run)
  redis.call('PEXPIRE', chats, 60000)
  return {0, 0}, now
end
"""
"""Lua `count_run`: count `run` unless a limit is reached; return the verdict and Redis's
time (ms): {0} counted, {1} too many running, {2, ms} too many chats this minute (retry in
ms). With `mode` = `check`, count nothing."""

_ADMIT: Final = COUNT_RUN + """
return (count_run(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]),
  tonumber(ARGV[4]), ARGV[5]))
"""
"""KEYS: running, chats. ARGV: run id, max runs, max chats, hold ms, mode: the verdict."""


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    """A user's limits as the scripts take them (`limits.runs_per_user`,
    `limits.chats_per_minute`) and how long an unreleased run counts (its longest life)."""

    runs_per_user: int
    chats_per_minute: int
    max_run_s: float

    @property
    def hold_ms(self) -> int:
        """Return how long a run counts when nobody releases it, in milliseconds."""
        return round((self.max_run_s + HOLD_MARGIN_S) * 1000)

    def refusal(self, verdict: int, retry_ms: int) -> RateLimitedError | None:
        """Return the error of a `count_run` verdict that refuses the run, else None."""
        if verdict == 1:
            return RateLimitedError(
                f"at most {self.runs_per_user} runs may go at once (limits.runs_per_user); "
                "retry when one has ended")
        if verdict == 2:
            return RateLimitedError(
                f"at most {self.chats_per_minute} chats a minute (limits.chats_per_minute); "
                f"retry in {max(1, round(retry_ms / 1000))} s")
        return None


class RedisUserQuotas:
    """The `UserQuotas` of every instance on one Redis."""

    def __init__(self, *, connector: RedisConnector, keys: RedisKeys,
                 limits: QuotaLimits) -> None:
        self._connector = connector
        self._keys = keys
        self._limits = limits

    async def admit(self, user_id: str, run_id: str) -> None:
        """Count a new run, or raise `RateLimitedError`; a refused chat leaves no trace."""
        await self._judge(user_id, run_id, "count")

    async def check(self, user_id: str) -> None:
        """Raise `RateLimitedError` when `admit` would refuse a run of `user_id` now."""
        await self._judge(user_id, "", "check")

    async def _judge(self, user_id: str, run_id: str, mode: str) -> None:
        async with unavailable_on_failure("counting a run"), \
                self._connector.admission_slot() as client:
            limits = self._limits
            verdict, retry_ms = await client.eval(
                _ADMIT, 2, self._keys.running(user_id), self._keys.chats(user_id), run_id,
                limits.runs_per_user, limits.chats_per_minute, limits.hold_ms, mode)
        refused = limits.refusal(int(verdict), int(retry_ms))
        if refused is not None:
            raise refused

    async def release(self, user_id: str, run_id: str) -> None:
        """Free the run's place (idempotent)."""
        async with unavailable_on_failure("releasing a run"), self._connector.slot() as client:
            await client.zrem(self._keys.running(user_id), run_id)
