"""Medians, spread and percentiles: how every figure in BENCHMARKS.md is summarised."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TypedDict


class Summary(TypedDict):
    """One figure over its repeats: the median, the range and the relative spread."""

    median: float
    min: float
    max: float
    spread_pct: float
    n: int


def summarise(samples: Sequence[float]) -> Summary:
    """Return the median of `samples`, their range, and (max - min) / median in percent."""
    if not samples:
        raise ValueError("nothing to summarise: no samples")
    median = statistics.median(samples)
    low, high = min(samples), max(samples)
    spread = (high - low) / median * 100 if median else 0.0
    return Summary(median=median, min=low, max=high, spread_pct=spread, n=len(samples))


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Return the `pct` percentile (nearest rank) of already sorted values."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile {pct} is not within 0..100")
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def percentiles(
    values: Sequence[float], pcts: Sequence[float] = (50, 90, 99, 100)
) -> dict[str, float]:
    """Return `{"p50": …, "p90": …, "p99": …, "p100": …}` of `values`."""
    ordered = sorted(values)
    return {f"p{pct:g}": percentile(ordered, pct) for pct in pcts}
