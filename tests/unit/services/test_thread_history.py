"""History bounds: the newest whole turns; stored turns decoded only when read."""

from __future__ import annotations

import pytest

from toolwire.services.threads.history import (
    HistoryBounds,
    StoredHistory,
    bound_history,
    bound_texts,
    history_size,
)
from toolwire.services.threads.models import Turn


def turns(count: int) -> list[Turn]:
    return [Turn(run_id=f"r{n}", message=f"m{n}", status="ok", started_at="s", ended_at="e",
                 answer="a" * (n * 10)) for n in range(count)]


@pytest.mark.parametrize(("max_turns", "max_bytes"), [(50, 10**6), (3, 10**6), (50, 400),
                                                       (50, 0), (0, 10**6)])
def test_both_bounds_keep_the_same_newest_turns(max_turns: int, max_bytes: int) -> None:
    every = turns(8)
    bounds = HistoryBounds(max_turns, max_bytes)
    kept = bound_history(every, bounds)
    assert kept == tuple(every[len(every) - len(kept):])
    assert sum(t.size for t in kept) <= max_bytes and len(kept) <= max_turns
    if len(kept) < len(every):  # the next older turn would not have fitted
        older = every[len(every) - len(kept) - 1]
        assert len(kept) == max_turns or history_size(kept) + older.size > max_bytes
    texts = bound_texts([t.encoded() for t in every], bounds)
    assert list(StoredHistory(texts)) == list(kept)


def test_stored_history_decodes_a_turn_only_when_read() -> None:
    every = turns(3)
    history = StoredHistory([t.encoded() for t in every[:2]] + [b"not json"])
    assert len(history) == 3
    assert history_size(history) == every[0].size + every[1].size + len(b"not json")
    assert history[1] == every[1]  # the malformed third is never decoded
    assert list(history[:2]) == every[:2]
    with pytest.raises(ValueError, match=r"\w"):  # what is wrong with the text
        history[2]
    assert list(reversed(StoredHistory([t.encoded() for t in every]))) == every[::-1]
