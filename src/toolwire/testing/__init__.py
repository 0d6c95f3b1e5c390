"""Test helpers for toolwire users: run invariants now, the pytest plugin on top of them."""

from toolwire.testing.invariants import (
    assert_sequence,
    assert_well_formed,
    format_run_table,
    run_problems,
)

__all__ = ["assert_sequence", "assert_well_formed", "format_run_table", "run_problems"]
