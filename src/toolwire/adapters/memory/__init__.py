"""In-process state for a one-process deployment: the request ledger and the user quotas."""

from toolwire.adapters.memory.ledger import MemoryRequestLedger
from toolwire.adapters.memory.quotas import MemoryUserQuotas

__all__ = ["MemoryRequestLedger", "MemoryUserQuotas"]
