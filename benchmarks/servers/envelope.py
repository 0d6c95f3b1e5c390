"""The run-event envelope the peer servers send, shaped like toolwire's `agent_thinking`."""

from __future__ import annotations

import secrets
import time
from typing import Any

_second = -1
_prefix = ""


def iso_now() -> str:
    """Return the UTC time as `2026-11-24T21:50:00.123456Z`, formatting each second once."""
    global _second, _prefix
    now = time.time()
    second = int(now)
    if second != _second:
        _second, _prefix = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_prefix}.{int((now - second) * 1_000_000):06d}Z"


class Envelope:
    """Builds the events of one stream: same keys and sizes as toolwire's frames."""

    __slots__ = ("run_id", "thread_id")

    def __init__(self) -> None:
        self.run_id = f"r_{secrets.token_hex(8)}"
        self.thread_id = f"t_{secrets.token_hex(8)}"

    def event(self, index: int, text: str) -> dict[str, Any]:
        """Return event `index` (seq counts from 2, after an agent_started)."""
        return {"type": "agent_thinking", "run_id": self.run_id, "thread_id": self.thread_id,
                "seq": index + 2, "ts": iso_now(), "data": {"text": text, "step": index + 1}}
