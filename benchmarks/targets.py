"""`Target`: one goal of issue 12, the figure measured for it, and whether it is met."""

from __future__ import annotations

from typing import TypedDict


class Target(TypedDict):
    """One row of a benchmark's target table; `met` is None where there is no goal."""

    figure: str
    target: str
    measured: str
    met: bool | None


def target(figure: str, goal: str, measured: str, met: bool | None) -> Target:
    """Return one target row."""
    return Target(figure=figure, target=goal, measured=measured, met=met)


def mark(met: bool | None) -> str:
    """Return how a table shows `met`: yes, NO, or a dash when there is no goal."""
    if met is None:
        return "–"
    return "yes" if met else "**no**"
