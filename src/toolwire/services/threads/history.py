"""The history an agent sees: a thread's latest turns, whole, within a count and a size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from toolwire.services.threads.models import Turn


@dataclass(frozen=True, slots=True)
class HistoryBounds:
    """At most `max_turns` turns of at most `max_bytes` (their JSON text) in all."""

    max_turns: int = 50
    max_bytes: int = 256 * 1024


def bound_history(turns: Sequence[Turn], bounds: HistoryBounds) -> Sequence[Turn]:
    """Return the newest turns of `turns` (oldest first) that fit `bounds`.

    The oldest go first, and a turn goes whole: it is never cut, so a tool call is never
    kept without its result. Stored turns are bounded by their text, still undecoded.
    """
    if isinstance(turns, StoredHistory):
        return turns.bounded(bounds)
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        if len(kept) >= bounds.max_turns or used + turn.size > bounds.max_bytes:
            break
        kept.append(turn)
        used += turn.size
    kept.reverse()
    return tuple(kept)


def bound_texts(texts: Sequence[bytes], bounds: HistoryBounds) -> tuple[bytes, ...]:
    """Return the newest turns' JSON texts of `texts` that fit `bounds` (as `bound_history`)."""
    kept: list[bytes] = []
    used = 0
    for text in reversed(texts):
        if len(kept) >= bounds.max_turns or used + len(text) > bounds.max_bytes:
            break
        kept.append(text)
        used += len(text)
    kept.reverse()
    return tuple(kept)


class StoredHistory(Sequence[Turn]):
    """Turns kept as their JSON texts, each decoded when first read.

    An agent that never reads its history (or reads only the last turn) pays nothing (or
    one turn) for a long thread.
    """

    __slots__ = ("_texts", "_turns", "size")

    def __init__(self, texts: Sequence[bytes]) -> None:
        self._texts = tuple(texts)
        self._turns: list[Turn | None] = [None] * len(self._texts)
        self.size = sum(len(text) for text in self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def bounded(self, bounds: HistoryBounds) -> StoredHistory:
        """Return the newest of these turns that fit `bounds` (see `bound_history`)."""
        kept = bound_texts(self._texts, bounds)
        return self if len(kept) == len(self._texts) else StoredHistory(kept)

    @overload
    def __getitem__(self, index: int) -> Turn: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Turn]: ...

    def __getitem__(self, index: int | slice) -> Turn | Sequence[Turn]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        turn = self._turns[index]
        if turn is None:
            turn = self._turns[index] = Turn.from_json(self._texts[index])
        return turn

    def __iter__(self) -> Iterator[Turn]:
        return (self[i] for i in range(len(self)))

    def __reversed__(self) -> Iterator[Turn]:
        return (self[i] for i in range(len(self) - 1, -1, -1))


def history_size(history: Sequence[Turn]) -> int:
    """Return the bytes of JSON of `history`, without decoding stored turns."""
    if isinstance(history, StoredHistory):
        return history.size
    return sum(turn.size for turn in history)
