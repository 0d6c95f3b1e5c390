"""Medians, spread and percentiles, as every figure in BENCHMARKS.md is summarised."""

from __future__ import annotations

import pytest

from benchmarks.stats import percentile, percentiles, summarise


def test_summary_is_the_median_with_the_range_and_the_spread() -> None:
    summary = summarise([4.0, 1.0, 2.0, 3.0, 10.0])
    assert summary == {"median": 3.0, "min": 1.0, "max": 10.0, "spread_pct": 300.0, "n": 5}


def test_nothing_to_summarise_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="no samples"):
        summarise([])


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentiles([3.0, 1.0, 2.0], (50, 100)) == {"p50": 2.0, "p100": 3.0}


def test_a_percentile_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], 101)
