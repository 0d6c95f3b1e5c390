"""`MemoryRunAdmission`: a run's quota place and request claim in one process."""

from __future__ import annotations

from toolwire.adapters.memory.ledger import MemoryRequestLedger
from toolwire.adapters.memory.quotas import MemoryUserQuotas


class MemoryRunAdmission:
    """The `RunAdmission` of one process, over its request ledger and user quotas.

    Nothing here awaits anything but in-process state, so no other chat comes between the
    claim and the count: both or neither.
    """

    __slots__ = ("_ledger", "_quotas")

    def __init__(self, *, ledger: MemoryRequestLedger, quotas: MemoryUserQuotas) -> None:
        self._ledger = ledger
        self._quotas = quotas

    async def admit(self, user_id: str, run_id: str, request_id: str | None) -> str | None:
        """Claim `request_id` and count the run, or neither; return an earlier run's id."""
        if request_id is not None:
            earlier = await self._ledger.claim(user_id, request_id, run_id)
            if earlier is not None:
                return earlier
        try:
            await self._quotas.admit(user_id, run_id)
        except BaseException:
            if request_id is not None:
                await self._ledger.release(user_id, request_id, run_id)
            raise
        return None

    async def release(self, user_id: str, run_id: str, request_id: str | None) -> None:
        """Free the run's place and forget its claim."""
        await self._quotas.release(user_id, run_id)
        if request_id is not None:
            await self._ledger.release(user_id, request_id, run_id)

    async def settle(self, user_id: str, run_id: str, request_id: str | None) -> None:
        """Free the run's place; keep its claim `retention_s` more."""
        await self._quotas.release(user_id, run_id)
        if request_id is not None:
            await self._ledger.settle(user_id, request_id, run_id)
