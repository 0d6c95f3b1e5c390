"""Test helpers for toolwire users: run invariants, event recording, fakes and the pytest plugin.

The fixtures live in `toolwire.testing.plugin`, loaded by pytest through the `pytest11` entry
point (disable with `-p no:toolwire`); this package itself does not need pytest.
"""

from toolwire.testing.client import ToolwireClient
from toolwire.testing.fakes import FakeTool, FakeToolFactory
from toolwire.testing.invariants import (
    assert_sequence,
    assert_well_formed,
    format_run_table,
    run_problems,
)
from toolwire.testing.lifecycle import ContainerFactory, settings_for_tests
from toolwire.testing.overrides import ProviderOverrides
from toolwire.testing.recording import EventLog, RecordingBus

__all__ = [
    "ContainerFactory",
    "EventLog",
    "FakeTool",
    "FakeToolFactory",
    "ProviderOverrides",
    "RecordingBus",
    "ToolwireClient",
    "assert_sequence",
    "assert_well_formed",
    "format_run_table",
    "run_problems",
    "settings_for_tests",
]
