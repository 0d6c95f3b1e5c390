"""In-process state for a one-process deployment: the request ledger, the user quotas, the
run admission over both, and the thread store."""

from toolwire.adapters.memory.admission import MemoryRunAdmission
from toolwire.adapters.memory.ledger import MemoryRequestLedger
from toolwire.adapters.memory.quotas import MemoryUserQuotas
from toolwire.adapters.memory.threads import InMemoryThreadStore, memory_run_eraser

__all__ = ["InMemoryThreadStore", "MemoryRequestLedger", "MemoryRunAdmission", "MemoryUserQuotas",
           "memory_run_eraser"]
