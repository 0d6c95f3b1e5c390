"""The history an agent sees: a thread's latest turns, whole, within a count and a size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from toolwire.services.threads.models import Turn


@dataclass(frozen=True, slots=True)
class HistoryBounds:
    """At most `max_turns` turns of at most `max_bytes` (their JSON text) in all."""

    max_turns: int = 50
    max_bytes: int = 256 * 1024


def bound_history(turns: Sequence[Turn], bounds: HistoryBounds) -> tuple[Turn, ...]:
    """Return the newest turns of `turns` (oldest first) that fit `bounds`.

    The oldest go first, and a turn goes whole: it is never cut, so a tool call is never
    kept without its result.
    """
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        if len(kept) >= bounds.max_turns or used + turn.size > bounds.max_bytes:
            break
        kept.append(turn)
        used += turn.size
    kept.reverse()
    return tuple(kept)
