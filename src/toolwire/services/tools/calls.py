"""A tool call and its outcome, as the dispatcher and executor pass them around."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from toolwire.services.context import new_id
from toolwire.services.events import ErrorInfo, ToolStatus


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One request to run `tool` with `args`."""

    tool: str
    args: dict[str, Any]
    call_id: str = field(default_factory=lambda: new_id("c"))


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """How a tool call ended; `result` only when `status == "ok"`."""

    call_id: str
    tool: str
    status: ToolStatus
    duration_ms: float
    result: Any = None
    error: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        """Return True when the tool returned a result."""
        return self.status == "ok"


class UnparsedArguments(dict[str, Any]):
    """Arguments that could not even be parsed; the executor reports `problem` as invalid."""

    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem
