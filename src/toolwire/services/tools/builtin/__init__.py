"""The built-in tools: calculator, clock, echo and (development/test only) sleep."""

from __future__ import annotations

from collections.abc import Iterable

from toolwire.services.tools.builtin.calculator import calculator
from toolwire.services.tools.builtin.clock import clock
from toolwire.services.tools.builtin.echo import echo
from toolwire.services.tools.builtin.sleep import sleep
from toolwire.services.tools.spec import ToolSpec

ALWAYS_AVAILABLE: tuple[ToolSpec, ...] = (calculator, clock, echo)


def builtin_tools(
    *,
    sleep_enabled: bool,
    enabled: Iterable[str] | None = None,
    disabled: Iterable[str] = (),
) -> list[ToolSpec]:
    """Return the built-ins that the settings turn on."""
    candidates = [*ALWAYS_AVAILABLE, *([sleep] if sleep_enabled else [])]
    wanted = None if enabled is None else set(enabled)
    blocked = set(disabled)
    return [
        spec for spec in candidates
        if (wanted is None or spec.name in wanted) and spec.name not in blocked
    ]


__all__ = ["builtin_tools", "calculator", "clock", "echo", "sleep"]
