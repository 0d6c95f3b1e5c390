"""What the request-scoped services read from the settings; config's models satisfy these.

The container hands each request object the app's settings (one cheap singleton lookup) and
the object reads its own knobs, so an override of the settings reaches the next scope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class RunLimits(Protocol):
    """The `runs` settings a run's objects obey."""

    @property
    def max_tool_calls(self) -> int:
        """Tool calls one run may make."""
        ...

    @property
    def max_duration_s(self) -> float:
        """How long one run may take."""
        ...


class ToolTimeouts(Protocol):
    """The `tools` settings a run's executor obeys: timeouts and the scopes tools need."""

    @property
    def timeout_s(self) -> float:
        """Default timeout of one tool call."""
        ...

    @property
    def timeouts(self) -> Mapping[str, float]:
        """Per-tool timeouts."""
        ...

    @property
    def max_result_bytes(self) -> int:
        """Largest tool result (JSON bytes) a call may return."""
        ...

    @property
    def scopes(self) -> Mapping[str, Sequence[str]]:
        """Per-tool scopes, replacing the tools' own."""
        ...


class ScopeSettings(Protocol):
    """The settings groups a request scope's objects read."""

    @property
    def runs(self) -> RunLimits:
        """Run limits."""
        ...

    @property
    def tools(self) -> ToolTimeouts:
        """Tool timeouts."""
        ...
