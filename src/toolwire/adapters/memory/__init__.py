"""In-memory stores for a single process."""

from toolwire.adapters.memory.threads import InMemoryThreadStore, memory_run_eraser

__all__ = ["InMemoryThreadStore", "memory_run_eraser"]
