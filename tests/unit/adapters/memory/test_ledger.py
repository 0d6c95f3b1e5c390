"""`MemoryRequestLedger`: claims per user, kept `retention_s` after the run, bounded in count."""

from __future__ import annotations

from toolwire.adapters.memory import MemoryRequestLedger


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_claim_is_made_once_and_names_its_run_afterwards() -> None:
    ledger = MemoryRequestLedger(retention_s=10)
    assert await ledger.claim("ada", "q-1", "r_1") is None
    assert await ledger.claim("ada", "q-1", "r_2") == "r_1"
    assert await ledger.claim("bob", "q-1", "r_3") is None  # request ids are per user


async def test_a_settled_claim_lasts_retention_s_then_is_forgotten() -> None:
    clock = Clock()
    ledger = MemoryRequestLedger(retention_s=10, clock=clock)
    await ledger.claim("ada", "q-1", "r_1")
    clock.now = 500.0  # a live run's claim never expires
    assert await ledger.claim("ada", "q-1", "r_x") == "r_1"
    await ledger.settle("ada", "q-1", "r_1")
    clock.now = 509.9
    assert await ledger.claim("ada", "q-1", "r_x") == "r_1"
    clock.now = 510.0
    assert await ledger.claim("ada", "q-1", "r_2") is None


async def test_release_and_settle_touch_only_the_run_that_holds_the_claim() -> None:
    clock = Clock()
    ledger = MemoryRequestLedger(retention_s=10, clock=clock)
    await ledger.claim("ada", "q-1", "r_1")
    await ledger.release("ada", "q-1", "r_other")
    await ledger.settle("ada", "q-1", "r_other")
    clock.now = 100.0
    assert await ledger.claim("ada", "q-1", "r_2") == "r_1"
    await ledger.release("ada", "q-1", "r_1")
    assert await ledger.claim("ada", "q-1", "r_2") is None


async def test_the_oldest_claims_are_forgotten_past_the_bound() -> None:
    ledger = MemoryRequestLedger(retention_s=10, max_requests=2)
    for n in range(3):
        await ledger.claim("ada", f"q-{n}", f"r_{n}")
    assert len(ledger) == 2
    assert await ledger.claim("ada", "q-0", "r_new") is None
    assert await ledger.claim("ada", "q-2", "r_new") == "r_2"
