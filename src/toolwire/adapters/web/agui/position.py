"""`Position`: where a client is in a run's AG-UI stream, read from `Last-Event-ID`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from toolwire.adapters.web.errors import INVALID_MESSAGE, WireError

MAX_ID_CHARS: Final = 256
_ID: Final = re.compile(r"([^:]+):([0-9]{1,18}):([0-9]{1,6})", re.ASCII)


@dataclass(frozen=True, slots=True)
class Position:
    """The last AG-UI event a client has: the `index`-th of `seq` in `run_id`."""

    run_id: str
    seq: int
    index: int

    def event_id(self) -> str:
        """Return the SSE `id` of this position."""
        return f"{self.run_id}:{self.seq}:{self.index}"

    @classmethod
    def parse(cls, text: str) -> Position:
        """Read a `Last-Event-ID`; raise `WireError` when it is not one this server sent.

        `seq` and `index` are ASCII digits only (`²` is a digit to `str.isdigit`, not to
        `int`).
        """
        match = _ID.fullmatch(text.strip()) if len(text) <= MAX_ID_CHARS else None
        if match is None:
            raise WireError(INVALID_MESSAGE, "Last-Event-ID must be the id of an event of "
                            "this stream (run_id:seq:index)")
        run_id, seq, index = match.groups()
        return cls(run_id, int(seq), int(index))
