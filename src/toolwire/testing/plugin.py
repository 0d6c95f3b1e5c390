"""The `toolwire` pytest plugin (entry point `pytest11`); disable it with `-p no:toolwire`."""

from __future__ import annotations

from collections.abc import Callable, Generator
from importlib.util import find_spec
from typing import Any, Final, NoReturn

import pytest

FIXTURES: Final = (
    "toolwire_settings", "toolwire_managed_container", "toolwire_container",
    "toolwire_container_factory", "toolwire_override", "fake_tool", "toolwire_events",
    "toolwire_client",
)
NEEDS: Final = ("pytest_asyncio", "pytest_aiohttp")
MISSING: Final = tuple(module for module in NEEDS if find_spec(module) is None)


def _unavailable(name: str) -> Callable[[], NoReturn]:
    @pytest.fixture(name=name)
    def fixture() -> NoReturn:
        pytest.fail(
            f"the {name} fixture needs {' and '.join(MISSING)}: "
            "pip install 'toolwire[testing]'",
            pytrace=False,
        )

    return fixture


if MISSING:
    for _name in FIXTURES:
        globals()[_name] = _unavailable(_name)
else:
    from toolwire.testing.fixtures import (  # noqa: F401  (pytest collects them from here)
        EVENT_LOG,
        fake_tool,
        toolwire_client,
        toolwire_container,
        toolwire_container_factory,
        toolwire_events,
        toolwire_managed_container,
        toolwire_override,
        toolwire_settings,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the `toolwire_settings` marker."""
    config.addinivalue_line(
        "markers",
        "toolwire_settings(**overrides): settings groups for this test's toolwire_settings, "
        "e.g. runs={'max_duration_s': 1}",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add the runs `toolwire_events` recorded, as tables, to the report of a failed test."""
    report = yield
    log: Any = None if MISSING else item.stash.get(EVENT_LOG, None)
    if report.failed and log is not None and log.published:
        report.sections.append(("toolwire events", log.describe()))
    return report
