"""A tool call as the dispatcher and executor pass it around, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from toolwire.services.context import new_id
from toolwire.services.events import ToolCompleted

ToolOutcome = ToolCompleted
"""How a tool call ended; the same object is published as its `tool_completed` event."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One request to run `tool` with `args`."""

    tool: str
    args: dict[str, Any]
    call_id: str = field(default_factory=lambda: new_id("c"))


class UnparsedArguments(dict[str, Any]):
    """Arguments that could not even be parsed; the executor reports `problem` as invalid."""

    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem
