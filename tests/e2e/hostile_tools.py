"""Tools that misbehave the way real ones might, for the hostile-input tests."""

from __future__ import annotations

from toolwire import tool


@tool(name="lone_surrogate", description="Return text with a lone surrogate in it.")
def lone_surrogate() -> str:
    """Return text no UTF-8 encoder accepts as it is."""
    return "before \ud800 after"
