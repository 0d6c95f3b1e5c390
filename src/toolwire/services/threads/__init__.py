"""Conversations: a user's threads, their turns, and the history an agent sees."""

from toolwire.services.threads.history import HistoryBounds, bound_history
from toolwire.services.threads.models import (
    ThreadDetail,
    ThreadPage,
    ThreadSummary,
    ToolCallRecord,
    Turn,
)

__all__ = [
    "HistoryBounds",
    "ThreadDetail",
    "ThreadPage",
    "ThreadSummary",
    "ToolCallRecord",
    "Turn",
    "bound_history",
]
