"""`MemoryUserQuotas`: concurrent runs and a sliding chats-per-minute window, per user."""

from __future__ import annotations

import pytest

from toolwire.adapters.memory import MemoryUserQuotas
from toolwire.services.errors import RateLimitedError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_runs_are_capped_per_user_and_freed_on_release() -> None:
    quotas = MemoryUserQuotas(runs_per_user=1, chats_per_minute=100)
    await quotas.admit("ada", "r_1")
    with pytest.raises(RateLimitedError, match=r"limits\.runs_per_user"):
        await quotas.admit("ada", "r_2")
    await quotas.admit("bob", "r_3")
    await quotas.release("ada", "r_1")
    await quotas.release("ada", "r_1")  # idempotent
    await quotas.admit("ada", "r_2")


async def test_a_chat_refused_for_concurrency_does_not_use_up_the_minute() -> None:
    quotas = MemoryUserQuotas(runs_per_user=1, chats_per_minute=2)
    await quotas.admit("ada", "r_1")
    with pytest.raises(RateLimitedError):
        await quotas.admit("ada", "r_2")
    await quotas.release("ada", "r_1")
    await quotas.admit("ada", "r_3")  # the second chat of the minute, not the third


async def test_idle_users_windows_are_swept() -> None:
    clock = Clock()
    quotas = MemoryUserQuotas(runs_per_user=10, chats_per_minute=1, clock=clock)
    await quotas.admit("ada", "r_1")
    clock.now = 31.0
    await quotas.admit("bob", "r_2")
    clock.now = 61.0
    await quotas.admit("carol", "r_3")
    assert quotas.tracked_users() == {"bob", "carol"}
