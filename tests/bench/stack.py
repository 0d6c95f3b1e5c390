"""The benchmark stack (`pip install -e '.[bench]'`): tests that need it skip without it."""

from __future__ import annotations

import pytest

BENCH_MODULES = ("dishka", "wireup", "socketio", "matplotlib")


def require_bench_stack() -> None:
    """Skip the calling test module unless the `bench` extra's packages are installed."""
    for name in BENCH_MODULES:
        pytest.importorskip(
            name, reason=f"{name} is missing: the benchmark stack is the bench extra, "
                         "pip install -e '.[bench]'")
